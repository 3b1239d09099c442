package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/libtnb/sqlite"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// These tests drive the examples' server only over HTTP and WebSockets, as
// PROTOCOL.md describes oTree's wire protocol: sessions are created and
// read through the REST API, and participants walk from their start links
// to the payment page as a browser without JavaScript would, opening the
// wait page's socket as the page script does.

// restSession is what GET /api/sessions/<code> answers.
type restSession struct {
	Code         string
	Participants []struct {
		Code       string
		ID         int     `json:"id_in_session"`
		Points     float64 `json:"payoff"`
		Payoff     float64 `json:"payoff_in_real_world_currency"`
		PayoffPlus float64 `json:"payoff_plus_participation_fee"`
		Finished   bool
	}
}

func createSession(t *testing.T, base string, body map[string]any) restSession {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/sessions", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct {
		Code           string
		SessionWideURL string `json:"session_wide_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != 201 {
		t.Fatalf("POST /api/sessions: status %d, %v", resp.StatusCode, err)
	}
	if !strings.Contains(created.SessionWideURL, "/join/") {
		t.Errorf("session_wide_url %q is not a /join/ link", created.SessionWideURL)
	}
	return readSession(t, base, created.Code)
}

func readSession(t *testing.T, base, code string) restSession {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions/" + code)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s restSession
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("GET /api/sessions/%s: status %d: %v", code, resp.StatusCode, err)
	}
	return s
}

var (
	pageRE       = regexp.MustCompile(`^/p/[a-z0-9]+/([a-z_]+)/([A-Za-z]+)/(\d+)$`)
	waitSocketRE = regexp.MustCompile(`"waitPage":"([^"]+)"`)
)

// walk plays one participant from the start link to the last page,
// entering answers[field] on every form that has that field. It returns
// the names of the pages seen, in order. It may run on its own goroutine,
// so it reports failures as errors.
func walk(base, code string, answers map[string]string) ([]string, error) {
	hc := &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	do := func(method, path string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("%s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	var seen []string
	path := "/InitializeParticipant/" + code
	for range 50 {
		resp, html, err := do("GET", path, nil)
		if err != nil {
			return seen, err
		}
		if resp.StatusCode == http.StatusFound {
			path = resp.Header.Get("Location")
			continue
		}
		m := pageRE.FindStringSubmatch(path)
		if resp.StatusCode != 200 || m == nil {
			return seen, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		seen = append(seen, m[1]+"/"+m[2])
		if ws := waitSocketRE.FindStringSubmatch(html); ws != nil {
			if err := waitForReady(base, strings.ReplaceAll(ws[1], `\u0026`, "&")); err != nil {
				return seen, err
			}
			continue
		}
		if !strings.Contains(html, `type="submit"`) {
			return seen, nil // the last page has no Next button
		}
		form := url.Values{}
		for field, v := range answers {
			if strings.Contains(html, `name="`+field+`"`) {
				form.Set(field, v)
			}
		}
		resp, _, err = do("POST", path, form)
		if err != nil {
			return seen, err
		}
		if resp.StatusCode != http.StatusFound {
			return seen, fmt.Errorf("POST %s %v: status %d, want 302", path, form, resp.StatusCode)
		}
		path = resp.Header.Get("Location")
	}
	return seen, fmt.Errorf("participant %s never reached the last page; pages: %v", code, seen)
}

// waitForReady opens a wait page's socket and waits for {"status": "ready"}.
func waitForReady(base, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		return fmt.Errorf("open wait socket %s: %w", path, err)
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("wait socket %s: %w", path, err)
		}
		var m struct{ Status string }
		if json.Unmarshal(msg, &m) == nil && m.Status == "ready" {
			return nil
		}
	}
}

// walkAll plays the participants concurrently, one answer set each.
func walkAll(t *testing.T, base string, s restSession, answers []map[string]string) [][]string {
	t.Helper()
	pages := make([][]string, len(s.Participants))
	errs := make(chan error)
	for i, p := range s.Participants {
		go func() {
			var err error
			pages[i], err = walk(base, p.Code, answers[i])
			errs <- err
		}()
	}
	for range s.Participants {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return pages
}

func forEachDB(t *testing.T, f func(t *testing.T, s *otreetest.Server)) {
	for _, db := range otreetest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			f(t, otreetest.NewServerOn(t, db, Project, nil))
		})
	}
}

func TestProtocolPublicGoods(t *testing.T) {
	forEachDB(t, func(t *testing.T, srv *otreetest.Server) {
		s := createSession(t, srv.URL, map[string]any{
			"session_config_name": "public_goods", "num_participants": 3,
		})
		all := func(c string) map[string]string { return map[string]string{"contribution": c} }
		pages := walkAll(t, srv.URL, s, []map[string]string{all("10"), all("0"), all("0")})
		want := []string{"public_goods/Introduction", "public_goods/Contribute",
			"public_goods/ResultsWaitPage", "public_goods/Results", "payment_info/PaymentInfo"}
		for i, p := range pages {
			got := strings.Join(p, " ")
			// A participant who arrives last never sees the wait page.
			if got != strings.Join(want, " ") &&
				got != strings.Join(append(want[:2:2], want[3:]...), " ") {
				t.Errorf("participant %d saw %v, want %v", i+1, p, want)
			}
		}
		checkPayoffs(t, readSession(t, srv.URL, s.Code), []float64{97, 107, 107}, nil)
	})
}

// A config parameter given through the REST API overrides the app's
// default: a multiplier of 3 instead of 2.
func TestProtocolParamOverride(t *testing.T) {
	srv := otreetest.NewServer(t, Project, nil)
	s := createSession(t, srv.URL, map[string]any{
		"session_config_name": "public_goods", "num_participants": 3,
		"modified_session_config_fields": map[string]any{"multiplier": 3},
	})
	all := map[string]string{"contribution": "10"}
	walkAll(t, srv.URL, s, []map[string]string{all, all, all})
	checkPayoffs(t, readSession(t, srv.URL, s.Code), []float64{120, 120, 120}, nil)
}

// Contributions 1, 2 and 3 with multiplier 1.8 store payoffs 103, 102 and
// 101 (each currency step rounds half-up), paid as $6.03, $6.02 and $6.01
// with 0.01 per point and a $5.00 fee.
func TestProtocolPaymentWithFee(t *testing.T) {
	forEachDB(t, func(t *testing.T, srv *otreetest.Server) {
		s := createSession(t, srv.URL, map[string]any{
			"session_config_name": "public_goods_simple", "num_participants": 3,
			"modified_session_config_fields": map[string]any{
				"real_world_currency_per_point": 0.01, "participation_fee": 5.00},
		})
		answers := []map[string]string{{"contribution": "1"}, {"contribution": "2"},
			{"contribution": "3"}}
		walkAll(t, srv.URL, s, answers)
		got := readSession(t, srv.URL, s.Code)
		checkPayoffs(t, got, []float64{103, 102, 101}, []float64{6.03, 6.02, 6.01})
		stored := storedPayoffs(t, srv, s.Code)
		if fmt.Sprint(stored) != "[103 102 101]" {
			t.Errorf("stored player payoffs %v, want [103 102 101]", stored)
		}
	})
}

func checkPayoffs(t *testing.T, s restSession, points, pay []float64) {
	t.Helper()
	for i, p := range s.Participants {
		if p.Points != points[i] {
			t.Errorf("participant %d: payoff %v points, want %v", p.ID, p.Points, points[i])
		}
		if pay != nil && p.PayoffPlus != pay[i] {
			t.Errorf("participant %d: paid %v, want %v", p.ID, p.PayoffPlus, pay[i])
		}
	}
}

// storedPayoffs reads the player rows' payoff column, by participant.
func storedPayoffs(t *testing.T, srv *otreetest.Server, session string) []string {
	t.Helper()
	var d gorm.Dialector = sqlite.Open(srv.SQLitePath)
	if srv.DatabaseURL != "" {
		d = postgres.Open(srv.DatabaseURL)
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	var out []otree.Currency
	err = db.Raw(`SELECT pl.payoff FROM public_goods_simple_player pl
		JOIN otree_session s ON s.id = pl.session_id
		WHERE s.code = ? ORDER BY pl.id_in_subsession`, session).Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	list := make([]string, len(out))
	for i, c := range out {
		list[i] = c.Decimal()
	}
	return list
}

// TestBotsOnPostgres plays every config's bots on Postgres; TestBots plays
// them on SQLite. The bots assert each game's numbers.
func TestBotsOnPostgres(t *testing.T) {
	srv := otreetest.NewServerOn(t, otreetest.Postgres, Project, nil)
	for _, c := range Project.SessionConfigs {
		t.Run(c.Name, func(t *testing.T) {
			rep := srv.Play(t, c.Name, 0)
			if len(rep.Sessions) == 0 {
				t.Errorf("no session was played")
			}
		})
	}
}
