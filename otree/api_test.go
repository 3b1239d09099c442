package otree_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// With auth on, the REST API needs the otree-rest-key header.
func TestUnknownAuthLevelRefused(t *testing.T) {
	_, err := otree.NewServer(pgProject, &otree.ServerOptions{AuthLevel: "bogus", Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Fatalf("NewServer with auth level bogus: error %v, want one naming it", err)
	}
}

func TestRESTKey(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{
		AuthLevel: "STUDY", RestKey: "secret", Logger: quietLogger()})
	post := func(key string) int {
		req, _ := http.NewRequest("POST", s.URL+"/api/sessions",
			strings.NewReader(`{"session_config_name": "pgg", "num_participants": 3}`))
		if key != "" {
			req.Header.Set("otree-rest-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(""); got != http.StatusForbidden {
		t.Errorf("without the key: status %d, want 403", got)
	}
	if got := post("wrong"); got != http.StatusForbidden {
		t.Errorf("with a wrong key: status %d, want 403", got)
	}
	if got := post("secret"); got != http.StatusCreated {
		t.Errorf("with the key: status %d, want 201", got)
	}
	if r := newClient(t, s.URL).get("/demo"); r.status != http.StatusForbidden {
		t.Errorf("demo page under STUDY: status %d, want 403", r.status)
	}
}

func TestRESTRejectsBadInput(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{Logger: quietLogger()})
	for _, body := range []string{
		`not json`,
		`{"session_config_name": "nosuch", "num_participants": 3}`,
		`{"session_config_name": "pgg", "num_participants": 0}`,
		`{"session_config_name": "pgg", "num_participants": 4}`,
		`{"session_config_name": "pgg", "num_participants": 3,
		  "modified_session_config_fields": {"nosuch": 1}}`,
		`{"session_config_name": "pgg", "num_participants": 3,
		  "modified_session_config_fields": {"participation_fee": "lots"}}`,
	} {
		resp, err := http.Post(s.URL+"/api/sessions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 400", body, resp.StatusCode)
		}
	}
	if resp, _ := http.Get(s.URL + "/api/sessions/nosuch"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET an unknown session: status %d, want 404", resp.StatusCode)
	}
}

// One click on the demo page creates a session and shows its links.
func TestDemoPage(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{Logger: quietLogger()})
	c := newClient(t, s.URL)
	if r := c.get("/"); r.status != 200 || !strings.Contains(r.body, `action="/demo/pgg"`) {
		t.Fatalf("the demo page: status %d, no button for the config", r.status)
	}
	r := c.post("/demo/pgg", nil)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/SessionStartLinks/") {
		t.Fatalf("create a demo session: status %d to %q", r.status, r.location)
	}
	links := c.get(r.location)
	if n := strings.Count(links.body, "/InitializeParticipant/"); n != 2*3 {
		t.Errorf("the links page shows %d participant links, want 3 (each as href and text)", n/2)
	}
	if !strings.Contains(links.body, "/join/") {
		t.Error("the links page lacks the session-wide link")
	}
}

// The session-wide link gives the same participant to the same label, the
// next free one to anyone else, and says when the session is full.
func TestJoinLink(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{Logger: quietLogger()})
	resp, err := http.Post(s.URL+"/api/sessions", "application/json",
		strings.NewReader(`{"session_config_name": "pgg", "num_participants": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		URL string `json:"session_wide_url"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	join := strings.TrimPrefix(created.URL, s.URL)
	c := newClient(t, s.URL)
	participant := func(query string) string {
		r := c.get(join + query)
		if r.status != http.StatusFound {
			t.Fatalf("GET %s%s: status %d", join, query, r.status)
		}
		return strings.Split(r.location, "/")[2]
	}
	a := participant("?participant_label=A")
	if again := participant("?participant_label=A"); again != a {
		t.Errorf("label A got participants %s and %s, want the same", a, again)
	}
	b := participant("?participant_label=B")
	other := participant("")
	if b == a || other == a || other == b {
		t.Errorf("three joins got %s, %s, %s, want three participants", a, b, other)
	}
	if r := c.get(join); r.status != http.StatusNotFound || !strings.Contains(r.body, "full") {
		t.Errorf("a fourth join: status %d, want 404 saying the session is full", r.status)
	}
}

// In a session that is not a demo, a browser that opens the session-wide
// link again gets the participant it had, from a cookie.
func TestJoinLinkRemembersBrowser(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{Logger: quietLogger()})
	resp, err := http.Post(s.URL+"/api/sessions", "application/json",
		strings.NewReader(`{"session_config_name": "pgg", "num_participants": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		URL string `json:"session_wide_url"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	first := func() string {
		resp, err := browser.Get(created.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return strings.Split(resp.Header.Get("Location"), "/")[2]
	}
	a, b := first(), first()
	if a != b {
		t.Errorf("the same browser joined as %s, then as %s", a, b)
	}
	other := newClient(t, s.URL).get(strings.TrimPrefix(created.URL, s.URL))
	if strings.Contains(other.location, "/"+a+"/") {
		t.Errorf("another browser got the same participant %s", a)
	}
}
