package otree_test

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/otree/otreetest"
)

func mustSub(fsys embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start creates a session and moves each participant onto the first page,
// returning the participants' codes and first-page paths.
func start(t *testing.T, s *otreetest.Server, n int) (codes, paths []string) {
	t.Helper()
	_, codes = session(t, s.URL, "pgg", n)
	c := newClient(t, s.URL)
	for _, code := range codes {
		path, r := c.follow("/InitializeParticipant/" + code)
		if r.status != http.StatusOK || !strings.Contains(path, "/pgContribute/1") {
			t.Fatalf("start %s: landed on %s with status %d", code, path, r.status)
		}
		paths = append(paths, path)
	}
	return codes, paths
}

// contribution reads a participant's stored contribution: nil when NULL.
func contribution(t *testing.T, s *otreetest.Server, code string) any {
	t.Helper()
	var v []any
	err := openDB(t, s).Raw(`SELECT pl.contribution FROM pgg_player pl
		JOIN otree_participant p ON p.id = pl.participant_id WHERE p.code = ?`, code).
		Scan(&v).Error
	if err != nil || len(v) != 1 {
		t.Fatalf("read contribution of %s: %v (%d rows)", code, err, len(v))
	}
	return v[0]
}

func TestOutOfRangeContributionIsRejected(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		codes, paths := start(t, s, 3)
		c := newClient(t, s.URL)
		for _, bad := range []string{"-1", "101", "abc", ""} {
			r := c.post(paths[0], url.Values{"contribution": {bad}})
			if r.status != http.StatusOK {
				t.Fatalf("POST contribution=%q: status %d, want 200 with errors", bad, r.status)
			}
			if got := r.header.Get("X-Otree-Error-Fields"); got != "contribution" {
				t.Errorf("POST contribution=%q: error fields %q, want contribution", bad, got)
			}
			if !strings.Contains(r.body, `class="otree-field-error"`) {
				t.Errorf("POST contribution=%q: no error shown next to the field", bad)
			}
			if bad != "" && !strings.Contains(r.body, `value="`+bad+`"`) {
				t.Errorf("POST contribution=%q: the submitted value is not kept", bad)
			}
			if v := contribution(t, s, codes[0]); v != nil {
				t.Fatalf("after POST contribution=%q: stored %v, want NULL", bad, v)
			}
		}
		if r := c.post(paths[0], url.Values{"contribution": {"0"}}); r.status != http.StatusFound {
			t.Fatalf("POST contribution=0: status %d, want 302", r.status)
		}
		if v := contribution(t, s, codes[0]); v == nil || fmt.Sprint(v) != "0" {
			t.Errorf("after POST contribution=0: stored %v, want 0 (not NULL)", v)
		}
	})
}

func TestStalePostAfterBackKeepsFirstAnswer(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		codes, paths := start(t, s, 3)
		c := newClient(t, s.URL)
		first := c.post(paths[0], url.Values{"contribution": {"10"}})
		if first.status != http.StatusFound {
			t.Fatalf("first POST: status %d", first.status)
		}
		// Back, then submit the old page again with another answer.
		back := c.get(paths[0])
		if back.status != http.StatusFound || back.location != first.location {
			t.Errorf("GET of the old page: status %d to %q, want 302 to %q",
				back.status, back.location, first.location)
		}
		again := c.post(paths[0], url.Values{"contribution": {"99"}})
		if again.status != http.StatusFound || again.location != first.location {
			t.Errorf("stale POST: status %d to %q, want 302 to %q",
				again.status, again.location, first.location)
		}
		if v := fmt.Sprint(contribution(t, s, codes[0])); v != "10" {
			t.Errorf("stored contribution %s after a stale POST, want the first answer 10", v)
		}
		if got := beforeNext.get(codes[0]); got != 1 {
			t.Errorf("BeforeNextPage ran %d times, want 1", got)
		}
	})
}

// Two identical POSTs 5 ms apart, as a double click sends them, give one
// submission: the hook runs once and one page-time row is written.
func TestDoublePostSubmitsOnce(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		const runs = 100
		codes, paths := start(t, s, 3*runs)
		c := newClient(t, s.URL)
		for i := range runs {
			var wg sync.WaitGroup
			var statuses [2]int
			for j := range 2 {
				wg.Go(func() {
					time.Sleep(time.Duration(j) * 5 * time.Millisecond)
					statuses[j] = c.post(paths[i], url.Values{"contribution": {"7"}}).status
				})
			}
			wg.Wait()
			if statuses != [2]int{http.StatusFound, http.StatusFound} {
				t.Fatalf("run %d: statuses %v, want two redirects", i, statuses)
			}
			if got := beforeNext.get(codes[i]); got != 1 {
				t.Fatalf("run %d: BeforeNextPage ran %d times, want 1", i, got)
			}
		}
		var rows int64
		openDB(t, s).Raw(`SELECT count(*) FROM otree_page_time WHERE page_name = 'pgContribute'`).
			Scan(&rows)
		if rows != runs {
			t.Errorf("%d page-time rows for the contribute page, want %d", rows, runs)
		}
	})
}

// Unknown codes, including ones no database could hold (a NUL byte,
// invalid UTF-8), are a 404, never a server error.
func TestUnknownParticipantIs404(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		c := newClient(t, s.URL)
		for _, code := range []string{"nosuchcode", "a%00b", "a%FFb"} {
			for _, path := range []string{
				"/InitializeParticipant/" + code,
				"/p/" + code + "/pgg/pgContribute/1",
				"/OutOfRangeNotification/" + code,
			} {
				r := c.get(path)
				if r.status != http.StatusNotFound || !strings.Contains(r.body, "not valid") {
					t.Errorf("GET %s: status %d, want a 404 page", path, r.status)
				}
			}
			if r := c.get("/join/" + code); r.status != http.StatusNotFound {
				t.Errorf("GET /join/%s: status %d, want 404", code, r.status)
			}
			if r := c.get("/api/sessions/" + code); r.status != http.StatusNotFound {
				t.Errorf("GET /api/sessions/%s: status %d, want 404", code, r.status)
			}
			r := c.post("/p/"+code+"/pgg/pgContribute/1", url.Values{"contribution": {"5"}})
			if r.status != http.StatusNotFound {
				t.Errorf("POST to participant %s: status %d, want 404", code, r.status)
			}
		}
	})
}

func TestOversizedFormIs413(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, nil)
	codes, paths := start(t, s, 3)
	c := newClient(t, s.URL)
	r := c.post(paths[0], url.Values{"contribution": {"5"}, "pad": {strings.Repeat("x", 2<<20)}})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB form: status %d, want 413", r.status)
	}
	if got := contribution(t, s, codes[0]); got != nil {
		t.Errorf("contribution %v stored from an oversized form, want nothing", got)
	}
}

func TestStaticFilesWithoutListing(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, nil)
	c := newClient(t, s.URL)
	if r := c.get("/static/otree/otree.css"); r.status != http.StatusOK {
		t.Errorf("GET otree.css: status %d, want 200", r.status)
	}
	if r := c.get("/static/otree/"); r.status != http.StatusNotFound {
		t.Errorf("GET /static/otree/: status %d, want 404 (no listing)", r.status)
	}
}

func TestPagesAreNotCached(t *testing.T) {
	s := otreetest.NewServer(t, pgProject, nil)
	_, paths := start(t, s, 3)
	r := newClient(t, s.URL).get(paths[0])
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// The group is released by push, a late socket gets "ready" at once, and
// AfterAllPlayersArrive runs once with the right payoffs.
func TestWaitPageReleasesGroup(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		sessionCode, _ := session(t, s.URL, "pgg", 3)
		info := getSession(t, s.URL, sessionCode)
		c := newClient(t, s.URL)
		var paths []string
		for _, p := range info.Participants {
			path, _ := c.follow("/InitializeParticipant/" + p.Code)
			paths = append(paths, path)
		}
		// The first two wait; their sockets must get "ready" by push.
		errs := make(chan error, 2)
		for i := range 2 {
			r := c.post(paths[i], url.Values{"contribution": {itoa(10 * (i + 1))}})
			if _, w := c.follow(r.location); !strings.Contains(w.body, "otree-wait-page") {
				t.Fatalf("participant %d is not on the wait page", i+1)
			}
			go func() { errs <- waitReady(t, s.URL, info.Participants[i].Code, 2, 10*time.Second) }()
		}
		time.Sleep(200 * time.Millisecond) // let both sockets subscribe
		r := c.post(paths[2], url.Values{"contribution": {"30"}})
		if r.status != http.StatusFound || !strings.Contains(r.location, "/pgResults/3") {
			t.Fatalf("last arrival: status %d to %q, want 302 to the results", r.status, r.location)
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("waiting socket: %v", err)
			}
		}
		// A socket that connects after the release is told at once.
		if err := waitReady(t, s.URL, info.Participants[0].Code, 2, 2*time.Second); err != nil {
			t.Fatalf("late socket: %v", err)
		}
		for i, want := range []string{"126", "116", "106"} {
			_, page := c.follow(paths[i])
			if !strings.Contains(page.body, `id="payoff">`+want+` points<`) {
				t.Errorf("participant %d: results page lacks payoff %s", i+1, want)
			}
		}
		if got := afterAll.get(sessionCode + "/1"); got != 1 {
			t.Errorf("AfterAllPlayersArrive ran %d times, want 1", got)
		}
	})
}

// Many groups submit at the same moment: each group's hook runs once and
// no group waits for another.
func TestConcurrentGroupsReleaseOnce(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		const groups = 10
		codes, paths := start(t, s, 3*groups)
		c := newClient(t, s.URL)
		var wg sync.WaitGroup
		for i := range paths {
			wg.Go(func() {
				c.post(paths[i], url.Values{"contribution": {"1"}})
			})
		}
		wg.Wait()
		info := getSession(t, s.URL, sessionOf(t, s, codes[0]))
		for _, p := range info.Participants {
			if p.Points != 101 {
				t.Errorf("participant %d: payoff %v, want 101", p.IDInSession, p.Points)
			}
		}
		for g := 1; g <= groups; g++ {
			if got := afterAll.get(info.Code + "/" + string(rune('0'+g))); got != 1 {
				t.Errorf("group %d: AfterAllPlayersArrive ran %d times, want 1", g, got)
			}
		}
	})
}

func sessionOf(t *testing.T, s *otreetest.Server, participant string) string {
	var code string
	openDB(t, s).Raw(`SELECT s.code FROM otree_session s JOIN otree_participant p
		ON p.session_id = s.id WHERE p.code = ?`, participant).Scan(&code)
	return code
}
