package otree_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// With auth on, the REST API needs the otree-rest-key header.
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
