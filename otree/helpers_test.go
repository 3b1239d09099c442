package otree_test

import (
	"context"
	"embed"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// The test app: a public goods game whose hooks count their calls.

//go:embed testdata/pg/*.html
var pgTemplates embed.FS

type pgSubsession struct {
	otree.BaseSubsession[pgSubsession, pgGroup, pgPlayer]
}

type pgGroup struct {
	otree.BaseGroup[pgSubsession, pgGroup, pgPlayer]
	Total otree.Currency
	Share otree.Currency
}

type pgPlayer struct {
	otree.BasePlayer[pgSubsession, pgGroup, pgPlayer]
	Contribution otree.Currency `label:"How much will you contribute?" max:"100"`
	Seen         int
}

// counts records how often each hook ran, by participant or group.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
}

func (c *counts) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

func (c *counts) all() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

var (
	beforeNext counts // by participant code
	afterAll   counts // by session code and group number
)

type pgContribute struct{ otree.Page }

func (pgContribute) FormFields() []string { return []string{"Contribution"} }

func (pgContribute) BeforeNextPage(p *pgPlayer, timedOut bool) {
	beforeNext.add(p.Participant().Code)
}

type pgWait struct{ otree.WaitPage }

func (pgWait) AfterAllPlayersArrive(g *pgGroup) {
	afterAll.add(g.Session().Code + "/" + string(rune('0'+g.IDInSubsession())))
	players := g.Players()
	g.Total = otree.Sum(players, func(p *pgPlayer) otree.Currency { return p.Contribution })
	g.Share = g.Total.Mul(1.8).Div(float64(len(players)))
	for _, p := range players {
		p.Payoff = otree.Cu(100).Sub(p.Contribution).Add(g.Share)
	}
}

type pgResults struct{ otree.Page }

var pgApp = &otree.App[pgSubsession, pgGroup, pgPlayer]{
	Name:            "pgg",
	PlayersPerGroup: 3,
	Pages:           []otree.AnyPage{pgContribute{}, pgWait{}, pgResults{}},
	Templates:       mustSub(pgTemplates, "testdata/pg"),
	Bot: func(b *otree.Bot[pgPlayer]) {
		b.Submit(pgContribute{}, otree.Values{"Contribution": 10 * b.Player().IDInGroup()})
		b.Submit(pgResults{})
	},
}

var pgProject = &otree.Project{
	SessionConfigs: []otree.SessionConfig{{
		Name: "pgg", Apps: []otree.Application{pgApp}, NumDemoParticipants: 3,
	}},
}

// A client is a participant's browser without JavaScript: it keeps the
// response of each request and follows no redirect by itself.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

type response struct {
	status   int
	location string
	header   http.Header
	body     string
}

func newClient(t testing.TB, base string) *client {
	return &client{t: t, base: base, hc: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) do(method, path string, form url.Values) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Location"), resp.Header, string(b)}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do("GET", path, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do("POST", path, form)
}

// follow GETs path and follows redirects; it returns the final path.
func (c *client) follow(path string) (string, response) {
	c.t.Helper()
	for range 20 {
		r := c.get(path)
		if r.status != http.StatusFound && r.status != http.StatusSeeOther {
			return path, r
		}
		path = r.location
	}
	c.t.Fatalf("too many redirects from %s", path)
	return "", response{}
}

// session creates a session through the REST API and returns its code and
// participant codes.
func session(t testing.TB, base, config string, n int) (string, []string) {
	t.Helper()
	body := strings.NewReader(`{"session_config_name": "` + config + `", "num_participants": ` +
		itoa(n) + `}`)
	resp, err := http.Post(base+"/api/sessions", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Code == "" {
		t.Fatalf("POST /api/sessions: status %d, %v", resp.StatusCode, err)
	}
	info := getSession(t, base, created.Code)
	codes := make([]string, len(info.Participants))
	for i, p := range info.Participants {
		codes[i] = p.Code
	}
	return created.Code, codes
}

type sessionInfo struct {
	Code         string
	Participants []struct {
		Code        string
		IDInSession int     `json:"id_in_session"`
		Payoff      float64 `json:"payoff_in_real_world_currency"`
		Points      float64 `json:"payoff"`
		Finished    bool
	}
}

func getSession(t testing.TB, base, code string) sessionInfo {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions/" + code)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info sessionInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatalf("GET /api/sessions/%s: status %d: %v", code, resp.StatusCode, err)
	}
	return info
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// waitReady opens a wait page's socket and waits for "ready".
func waitReady(t testing.TB, base, code string, index int, limit time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/wait_page?participant_code=" + code +
		"&page_index=" + itoa(index)
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if strings.Contains(string(msg), `"ready"`) {
			return nil
		}
	}
}

// openDB opens the test server's database for checks in SQL.
func openDB(t testing.TB, s *otreetest.Server) *gorm.DB {
	t.Helper()
	var d gorm.Dialector = sqlite.Open(s.SQLitePath)
	if s.DatabaseURL != "" {
		d = postgres.Open(s.DatabaseURL)
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// forEachDB runs f against a fresh server on SQLite and on Postgres.
func forEachDB(t *testing.T, p *otree.Project, f func(t *testing.T, s *otreetest.Server)) {
	for _, db := range otreetest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			f(t, otreetest.NewServerOn(t, db, p, &otree.ServerOptions{Logger: quietLogger()}))
		})
	}
}
