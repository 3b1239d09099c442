package otree_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// The timed app: two timed pages, each followed by a wait page.

type tmSub struct {
	otree.BaseSubsession[tmSub, tmGroup, tmPlayer]
}

type tmGroup struct {
	otree.BaseGroup[tmSub, tmGroup, tmPlayer]
}

type tmPlayer struct {
	otree.BasePlayer[tmSub, tmGroup, tmPlayer]
	Answer        int `max:"10"`
	FirstTimedOut bool
	LastTimedOut  bool
}

// timedFor is the time allowed on each timed page; tests set it.
var timedFor = 1500 * time.Millisecond

var timedSubmits counts // BeforeNextPage calls by participant code and page

type tmFirst struct{ otree.Page }

func (tmFirst) FormFields() []string              { return []string{"Answer"} }
func (tmFirst) Timeout(p *tmPlayer) time.Duration { return timedFor }
func (tmFirst) BeforeNextPage(p *tmPlayer, to bool) {
	p.FirstTimedOut = to
	timedSubmits.add(p.Participant().Code + "/first")
}

type tmWait1 struct{ otree.WaitPage }

type tmLast struct{ otree.Page }

func (tmLast) Timeout(p *tmPlayer) time.Duration { return timedFor }
func (tmLast) BeforeNextPage(p *tmPlayer, to bool) {
	p.LastTimedOut = to
	timedSubmits.add(p.Participant().Code + "/last")
}

type tmWait2 struct{ otree.WaitPage }

type tmEnd struct{ otree.Page }

var timedApp = &otree.App[tmSub, tmGroup, tmPlayer]{
	Name: "timed", PlayersPerGroup: 3,
	Pages: []otree.AnyPage{tmFirst{}, tmWait1{}, tmLast{}, tmWait2{}, tmEnd{}},
}

var soloApp = &otree.App[tmSub, tmGroup, tmPlayer]{
	Name: "solo", Pages: []otree.AnyPage{tmFirst{}, tmEnd{}},
}

var timedProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "timed", Apps: []otree.Application{timedApp}, NumDemoParticipants: 3},
	{Name: "solo", Apps: []otree.Application{soloApp}, NumDemoParticipants: 1},
}}

// expiry reads a participant's stored page deadline.
func expiry(t *testing.T, s *otreetest.Server, code string) time.Time {
	t.Helper()
	var at time.Time
	if err := openDB(t, s).Raw(`SELECT expiry_at FROM otree_participant WHERE code = ?`, code).
		Row().Scan(&at); err != nil {
		t.Fatalf("read deadline of %s: %v", code, err)
	}
	return at
}

// A participant who loads only the start link, and nothing after, moves
// through both timed pages at their deadlines; the others, waiting for
// them, are released within a second of each deadline.
func TestTimeoutsAdvanceAbsentParticipant(t *testing.T) {
	forEachDB(t, timedProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "timed", 3)
		c := newClient(t, s.URL)
		var paths []string
		for _, code := range codes {
			path, _ := c.follow("/InitializeParticipant/" + code)
			paths = append(paths, path)
		}
		absent := codes[2]
		for _, step := range []struct{ page, wait int }{{1, 2}, {3, 4}} {
			deadline := expiry(t, s, absent)
			for i := range 2 {
				path, _ := c.follow(paths[i])
				if r := c.post(path, url.Values{"answer": {"5"}}); r.status != http.StatusFound {
					t.Fatalf("participant %d page %d: status %d", i+1, step.page, r.status)
				}
			}
			if err := waitReady(t, s.URL, codes[0], step.wait, 10*time.Second); err != nil {
				t.Fatalf("wait page %d: %v", step.wait, err)
			}
			if late := time.Since(deadline); late > time.Second {
				t.Errorf("page %d: released %v after the absent participant's deadline, want < 1s",
					step.page, late)
			}
		}
		var rows []struct {
			FirstTimedOut, LastTimedOut bool
			Answer                      *int
		}
		openDB(t, s).Raw(`SELECT pl.first_timed_out, pl.last_timed_out, pl.answer FROM timed_player pl
			JOIN otree_participant p ON p.id = pl.participant_id WHERE p.code = ?`, absent).Scan(&rows)
		if len(rows) != 1 || !rows[0].FirstTimedOut || !rows[0].LastTimedOut {
			t.Errorf("absent participant's row %+v, want both timeouts recorded", rows)
		}
		if len(rows) == 1 && (rows[0].Answer == nil || *rows[0].Answer != 0) {
			t.Errorf("absent participant's answer %v, want the default 0", rows[0].Answer)
		}
		var timedOut int64
		openDB(t, s).Raw(`SELECT count(*) FROM otree_page_time pt JOIN otree_participant p
			ON p.id = pt.participant_id WHERE p.code = ? AND pt.timeout_happened`, absent).Scan(&timedOut)
		if timedOut != 2 {
			t.Errorf("%d page-time rows record a timeout, want 2", timedOut)
		}
		for i := range 2 {
			if path, _ := c.follow(paths[i]); !regexp.MustCompile(`/tmEnd/5$`).MatchString(path) {
				t.Errorf("participant %d ended on %s, want the last page", i+1, path)
			}
		}
	})
}

// A deadline that passes while no server runs fires when one starts, once.
func TestTimeoutFiresAfterRestart(t *testing.T) {
	forEachDB(t, timedProject, func(t *testing.T, first *otreetest.Server) {
		_, codes := session(t, first.URL, "solo", 1)
		newClient(t, first.URL).follow("/InitializeParticipant/" + codes[0])
		deadline := expiry(t, first, codes[0])
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(deadline) + 200*time.Millisecond)

		second := reopen(t, first)
		waitFor(t, 5*time.Second, func() bool { return timedSubmits.get(codes[0]+"/first") > 0 })
		path, _ := newClient(t, second.URL).follow("/InitializeParticipant/" + codes[0])
		if !regexp.MustCompile(`/tmEnd/2$`).MatchString(path) {
			t.Errorf("after the restart the participant is on %s, want the last page", path)
		}
		time.Sleep(300 * time.Millisecond)
		if n := timedSubmits.get(codes[0] + "/first"); n != 1 {
			t.Errorf("the timed page was submitted %d times, want 1", n)
		}
	})
}

// reopen starts a new server on the database of a closed one.
func reopen(t *testing.T, old *otreetest.Server) *otreetest.Server {
	t.Helper()
	db := otreetest.Database{Name: "same"}
	return otreetest.NewServerOn(t, otreetest.Reuse(db, old), timedProject,
		&otree.ServerOptions{Logger: quietLogger()})
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var deadlineRE = regexp.MustCompile(`"deadline":(\d+)`)

// A participant's own POST at the deadline and the timeout give exactly
// one submission, 200 times over.
func TestPostAtDeadlineSubmitsOnce(t *testing.T) {
	const runs = 200
	old := timedFor
	timedFor = 700 * time.Millisecond
	defer func() { timedFor = old }()
	forEachDB(t, timedProject, func(t *testing.T, s *otreetest.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code, err := s.CreateSession(ctx, otree.SessionOptions{Config: "solo", Participants: runs})
		if err != nil {
			t.Fatal(err)
		}
		info := getSession(t, s.URL, code)
		c := newClient(t, s.URL)
		var wg sync.WaitGroup
		for _, p := range info.Participants {
			path, page := c.follow("/InitializeParticipant/" + p.Code)
			m := deadlineRE.FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("the timed page shows no deadline")
			}
			ms, _ := strconv.ParseInt(m[1], 10, 64)
			wg.Go(func() {
				time.Sleep(time.Until(time.UnixMilli(ms)))
				c.post(path, url.Values{"answer": {"3"}})
			})
		}
		wg.Wait()
		time.Sleep(timedFor)
		for _, p := range info.Participants {
			if n := timedSubmits.get(p.Code + "/first"); n != 1 {
				t.Errorf("participant %d: %d submissions, want 1", p.IDInSession, n)
			}
		}
		var rows int64
		openDB(t, s).Raw(`SELECT count(*) FROM otree_page_time WHERE page_name = 'tmFirst'`).Scan(&rows)
		if rows != runs {
			t.Errorf("%d page-time rows, want %d", rows, runs)
		}
	})
}

// A bot times a page out at will; its pages never time out by themselves,
// so runs do not depend on timing.
func TestBotSubmitTimeout(t *testing.T) {
	app := &otree.App[tmSub, tmGroup, tmPlayer]{
		Name: "bot_timeout", Pages: []otree.AnyPage{tmFirst{}, tmEnd{}},
		Bot: func(b *otree.Bot[tmPlayer]) {
			b.SubmitTimeout(tmFirst{}, otree.Values{"Answer": 50}) // out of range: becomes 0
			p := b.Player()
			b.Expect(p.FirstTimedOut, true)
			b.Expect(p.Answer, 0)
			b.Expect(p.IsSet(&p.Answer), true)
		},
	}
	p := &otree.Project{SessionConfigs: []otree.SessionConfig{{
		Name: "bot_timeout", Apps: []otree.Application{app}, NumDemoParticipants: 1}}}
	old := timedFor
	timedFor = 50 * time.Millisecond
	defer func() { timedFor = old }()
	s := otreetest.NewServer(t, p, &otree.ServerOptions{Logger: quietLogger()})
	s.Play(t, "bot_timeout", 3)
}
