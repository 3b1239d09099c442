package load_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gotree/gotree/internal/load"
	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// The test app puts every kind of input on its pages. Each player's payoff
// spells the values the driver chose, so the test can check them: 7 from
// Fixed, 10 for the first Level, 100 for Agree (Yes is the first radio),
// 1000 for Accept (the first named button) and 10000 for the first Color.
const wantPayoff = 11117

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Amount int            `min:"3" max:"9"`
	Fixed  int            `min:"7" max:"7"`
	Ratio  float64        `min:"0.5" max:"1.5"`
	Points otree.Currency `max:"10"`
	Color  string         `choices:"red,green,blue"`
	Agree  bool
	Level  int `choices:"1,2,3" widget:"radio"`
	Note   string
	Accept bool
}

type Intro struct{ otree.Page }

type Choice struct{ otree.Page }

func (Choice) FormFields() []string {
	return []string{"Amount", "Fixed", "Ratio", "Points", "Color", "Agree", "Level", "Note"}
}

type Decision struct{ otree.Page }

func (Decision) FormFields() []string { return []string{"Accept"} }

type Wait struct{ otree.WaitPage }

func (Wait) AfterAllPlayersArrive(g *Group) {
	for _, p := range g.Players() {
		n := p.Fixed + 10*p.Level
		if p.Agree {
			n += 100
		}
		if p.Accept {
			n += 1000
		}
		if p.Color == "red" {
			n += 10000
		}
		p.Payoff = otree.Cu(n)
	}
}

type Results struct{ otree.Page }

type Last struct{ otree.Page }

var app = &otree.App[Subsession, Group, Player]{
	Name:            "loadtest",
	PlayersPerGroup: 2,
	Pages:           []otree.AnyPage{Intro{}, Choice{}, Decision{}, Wait{}, Results{}, Last{}},
	Templates: fstest.MapFS{
		"Decision.html": {Data: []byte(`{{define "content"}}
<button name="accept" value="True" class="otree-btn-next">Accept</button>
<button name="accept" value="False" class="otree-btn-next">Reject</button>
{{end}}`)},
		"Last.html": {Data: []byte(`{{define "content"}}<p id="done">Done.</p>{{end}}`)},
	},
}

// broken fails: player 2's BeforeNextPage panics, so player 1 is never
// released from the wait page.
type Boom struct{ otree.Page }

func (Boom) BeforeNextPage(p *BrokenPlayer, timedOut bool) {
	if p.IDInGroup() == 2 {
		panic("boom")
	}
}

type BrokenSubsession struct {
	otree.BaseSubsession[BrokenSubsession, BrokenGroup, BrokenPlayer]
}

type BrokenGroup struct {
	otree.BaseGroup[BrokenSubsession, BrokenGroup, BrokenPlayer]
}

type BrokenPlayer struct {
	otree.BasePlayer[BrokenSubsession, BrokenGroup, BrokenPlayer]
}

type BrokenWait struct{ otree.WaitPage }

var brokenApp = &otree.App[BrokenSubsession, BrokenGroup, BrokenPlayer]{
	Name:            "broken",
	PlayersPerGroup: 2,
	Pages:           []otree.AnyPage{Boom{}, BrokenWait{}, Results{}},
}

// Refuse rejects every submission, so its participant never advances.
type Refuse struct{ otree.Page }

func (Refuse) ErrorMessage(p *StuckPlayer) string { return "never" }

type StuckSubsession struct {
	otree.BaseSubsession[StuckSubsession, StuckGroup, StuckPlayer]
}

type StuckGroup struct {
	otree.BaseGroup[StuckSubsession, StuckGroup, StuckPlayer]
}

type StuckPlayer struct {
	otree.BasePlayer[StuckSubsession, StuckGroup, StuckPlayer]
}

var stuckApp = &otree.App[StuckSubsession, StuckGroup, StuckPlayer]{
	Name:  "stuck",
	Pages: []otree.AnyPage{Refuse{}},
}

var project = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "loadtest", Apps: []otree.Application{app}, NumDemoParticipants: 2},
	{Name: "broken", Apps: []otree.Application{brokenApp}, NumDemoParticipants: 2},
	{Name: "stuck", Apps: []otree.Application{stuckApp}, NumDemoParticipants: 1},
}}

func newServer(t *testing.T) *otreetest.Server {
	t.Helper()
	return otreetest.NewServer(t, project, &otree.ServerOptions{
		Logger: slog.New(slog.DiscardHandler),
	})
}

func run(t *testing.T, opts load.Options) *load.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := load.Run(ctx, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func TestRun(t *testing.T) {
	srv := newServer(t)
	const n = 6
	rep := run(t, load.Options{
		BaseURL: srv.URL, SessionConfig: "loadtest", Participants: n, SessionSize: 4, Seed: 1,
	})
	var out strings.Builder
	rep.Print(&out)
	t.Logf("report:\n%s", out.String())
	for _, want := range []string{"6 participants in 2 sessions", "6 finished", "errors    0",
		"POST loadtest/Choice"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print wrote\n%s\nwant a line containing %q", out.String(), want)
		}
	}

	// Every participant finishes without an error.
	if rep.ErrorCount != 0 || len(rep.Errors) != 0 {
		t.Fatalf("ErrorCount = %d, Errors = %v; want none", rep.ErrorCount, rep.Errors)
	}
	if rep.Finished != n || rep.Participants != n {
		t.Errorf("Finished = %d of %d, want %d of %d", rep.Finished, rep.Participants, n, n)
	}
	if len(rep.Sessions) != 2 {
		t.Errorf("Sessions = %v, want 2 (sessions of 4 and 2)", rep.Sessions)
	}

	// The request that completes a group may skip the wait page, so the
	// wait page gets between one GET per group and one per participant,
	// plus one more for each socket wait. At most one player of each group
	// of two can wait.
	routes := map[string]int{}
	for _, r := range rep.Routes {
		routes[r.Name] = r.Requests
	}
	for _, page := range []string{"Intro", "Choice", "Decision", "Results"} {
		for _, method := range []string{"GET", "POST"} {
			if name := method + " loadtest/" + page; routes[name] != n {
				t.Errorf("route %s: %d requests, want %d (routes %v)", name, routes[name], n, routes)
			}
		}
	}
	for _, name := range []string{"GET InitializeParticipant", "GET loadtest/Last"} {
		if routes[name] != n {
			t.Errorf("route %s: %d requests, want %d (routes %v)", name, routes[name], n, routes)
		}
	}
	if rep.WaitPages > n/2 {
		t.Errorf("WaitPages = %d, want at most %d", rep.WaitPages, n/2)
	}
	if w := routes["GET loadtest/Wait"] - rep.WaitPages; w < n/2 || w > n {
		t.Errorf("GET loadtest/Wait: %d requests with %d socket waits, want %d to %d more than the waits",
			routes["GET loadtest/Wait"], rep.WaitPages, n/2, n)
	}
	if want := 10*n + routes["GET loadtest/Wait"]; rep.Requests != want {
		t.Errorf("Requests = %d, want %d", rep.Requests, want)
	}
	if got := rep.Status[http.StatusOK] + rep.Status[http.StatusFound]; got != rep.Requests {
		t.Errorf("Status = %v: %d answers of 200 or 302, want all %d", rep.Status, got, rep.Requests)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.P50 > rep.Latency.P99 || rep.Latency.P99 > rep.Latency.Max {
		t.Errorf("Latency = %+v, want 0 < p50 <= p99 <= max", rep.Latency)
	}
	if rep.RequestsPerSecond <= 0 || rep.Duration <= 0 {
		t.Errorf("RequestsPerSecond = %v over %v, want > 0", rep.RequestsPerSecond, rep.Duration)
	}

	// The server stored the values the driver chose.
	for _, code := range rep.Sessions {
		for _, p := range sessionParticipants(t, srv.URL, code) {
			if p.Index != p.MaxIndex || p.Payoff != wantPayoff {
				t.Errorf("session %s participant %s: on page %d of %d, payoff %v; want the last, %d",
					code, p.Code, p.Index, p.MaxIndex, p.Payoff, wantPayoff)
			}
		}
	}
}

type apiParticipant struct {
	Code     string  `json:"code"`
	Payoff   float64 `json:"payoff"`
	Index    int     `json:"_index_in_pages"`
	MaxIndex int     `json:"_max_page_index"`
}

func sessionParticipants(t *testing.T, base, code string) []apiParticipant {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions/" + code)
	if err != nil {
		t.Fatalf("GET session %s: %v", code, err)
	}
	defer resp.Body.Close()
	var s struct {
		Participants []apiParticipant `json:"participants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode session %s: %v", code, err)
	}
	return s.Participants
}

// Ramp spreads the starts: the last of four participants starts after
// three quarters of it.
func TestRunRamp(t *testing.T) {
	srv := newServer(t)
	const ramp = 400 * time.Millisecond
	rep := run(t, load.Options{BaseURL: srv.URL, SessionConfig: "loadtest", Participants: 4, Ramp: ramp})
	if rep.ErrorCount != 0 || rep.Finished != 4 {
		t.Fatalf("ErrorCount = %d, Finished = %d, want 0, 4 (errors %v)", rep.ErrorCount, rep.Finished, rep.Errors)
	}
	if rep.Duration < ramp*3/4 {
		t.Errorf("Duration = %v with a ramp of %v, want at least %v", rep.Duration, ramp, ramp*3/4)
	}
}

func TestRunErrors(t *testing.T) {
	srv := newServer(t)

	// A hook that panics is a 500 for one player; the other is stranded on
	// the wait page until WaitTimeout.
	t.Run("server error", func(t *testing.T) {
		rep := run(t, load.Options{BaseURL: srv.URL, SessionConfig: "broken", Participants: 2,
			WaitTimeout: 300 * time.Millisecond})
		if rep.ErrorCount != 2 || rep.Finished != 0 {
			t.Fatalf("ErrorCount = %d, Finished = %d, want 2, 0 (errors %v)",
				rep.ErrorCount, rep.Finished, rep.Errors)
		}
		if rep.Status[http.StatusInternalServerError] != 1 {
			t.Errorf("Status = %v, want one 500", rep.Status)
		}
		var msgs []string
		for _, e := range rep.Errors {
			msgs = append(msgs, e.Error())
		}
		all := strings.Join(msgs, "\n")
		for _, want := range []string{"POST /p/", "status 500", "WS /wait_page", "not released within 300ms"} {
			if !strings.Contains(all, want) {
				t.Errorf("errors:\n%s\nwant one containing %q", all, want)
			}
		}
	})

	// A form the server keeps rejecting is a page that does not advance.
	t.Run("page does not advance", func(t *testing.T) {
		rep := run(t, load.Options{BaseURL: srv.URL, SessionConfig: "stuck", Participants: 1})
		if rep.ErrorCount != 1 || len(rep.Errors) != 1 {
			t.Fatalf("ErrorCount = %d, Errors = %v, want 1", rep.ErrorCount, rep.Errors)
		}
		if e := rep.Errors[0]; e.Status != http.StatusOK || !strings.Contains(e.Msg, "did not advance") {
			t.Errorf("error = %v, want status 200 and 'did not advance'", e)
		}
	})

	// Options or sessions that cannot work stop Run before anyone plays.
	for _, tc := range []struct {
		name string
		opts load.Options
		want string
	}{
		{"unknown config", load.Options{BaseURL: srv.URL, SessionConfig: "nope", Participants: 2}, "nope"},
		{"no participants", load.Options{BaseURL: srv.URL, SessionConfig: "loadtest"}, "participants"},
		{"bad URL", load.Options{BaseURL: "localhost:1", SessionConfig: "loadtest", Participants: 1}, "base URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := load.Run(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, %v; want an error containing %q", rep, err, tc.want)
			}
		})
	}
}
