package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"gorm.io/gorm"

	"github.com/gotree/gotree/timeouts/asynq"
)

// The tests here play ./testapp: "timed" is two timed pages (First at
// index 1, Last at 3), each followed by a wait page (2 and 4), then End (5),
// for groups of three; "solo" is First (1) and End (2) for one player. Its
// players count their BeforeNextPage calls and keep the timedOut flag.

// expiry reads a participant's stored page deadline and the page it is for.
func expiry(t testing.TB, db *gorm.DB, code string) (time.Time, int) {
	t.Helper()
	var row struct {
		ExpiryAt   *time.Time
		ExpiryPage int
	}
	err := db.Raw(`SELECT expiry_at, expiry_page FROM otree_participant WHERE code = ?`, code).
		Scan(&row).Error
	if err != nil || row.ExpiryAt == nil {
		t.Fatalf("read the deadline of %s: %v (deadline %v)", code, err, row.ExpiryAt)
	}
	return *row.ExpiryAt, row.ExpiryPage
}

// A pageTime is a row of the page-time log.
type pageTime struct {
	Code            string
	PageIndex       int
	TimeoutHappened bool
	CompletedAt     time.Time
}

// pageTimes reads the page-time rows of a session's participants for one
// page, by participant code.
func pageTimes(t testing.TB, db *gorm.DB, session string, page int) map[string][]pageTime {
	t.Helper()
	var rows []pageTime
	err := db.Raw(`SELECT p.code, pt.page_index, pt.timeout_happened, pt.completed_at
		FROM otree_page_time pt
		JOIN otree_participant p ON p.id = pt.participant_id
		JOIN otree_session s ON s.id = pt.session_id
		WHERE s.code = ? AND pt.page_index = ?`, session, page).Scan(&rows).Error
	if err != nil {
		t.Fatalf("read page times: %v", err)
	}
	out := map[string][]pageTime{}
	for _, r := range rows {
		out[r.Code] = append(out[r.Code], r)
	}
	return out
}

// A timedPlayer is a testapp player row.
type timedPlayer struct {
	Code          string
	FirstTimedOut bool
	FirstSubmits  int
	LastTimedOut  bool
	LastSubmits   int
}

// timedPlayers reads the testapp player rows of a session's participants
// in app ("timed" or "solo"), by participant code.
func timedPlayers(t testing.TB, db *gorm.DB, app, session string) map[string]timedPlayer {
	t.Helper()
	var rows []timedPlayer
	err := db.Raw(`SELECT p.code, pl.first_timed_out, pl.first_submits, pl.last_timed_out, pl.last_submits
		FROM `+app+`_player pl
		JOIN otree_participant p ON p.id = pl.participant_id
		JOIN otree_session s ON s.id = p.session_id
		WHERE s.code = ?`, session).Scan(&rows).Error
	if err != nil {
		t.Fatalf("read %s players: %v", app, err)
	}
	out := map[string]timedPlayer{}
	for _, r := range rows {
		out[r.Code] = r
	}
	return out
}

// waitUntil polls cond every 50 ms until it holds, and reports whether it
// did within limit.
func waitUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// participants returns the session's participants on base, by id.
func participants(info sessionInfo, base string) []*participant {
	var out []*participant
	for _, p := range info.Participants {
		out = append(out, newParticipant(p.Code, p.IDInSession, base))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// openStartLinkOnly is an absent participant: the start link is loaded
// once, its redirect not followed, and nothing else.
func openStartLinkOnly(t testing.TB, p *participant) {
	t.Helper()
	r, err := p.do("GET", "/InitializeParticipant/"+p.code, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusFound {
		t.Fatalf("%s: GET the start link: status %d, want 302", p, r.status)
	}
}

// With the web server, the channels worker and the timeout worker (asynq)
// as separate processes, a participant who loads only the start link, and
// nothing after, moves through both timed pages at their deadlines: the
// two others, waiting for that participant, are on the next page within
// 1 s after each deadline, and the absent participant's rows record both
// timeouts.
func TestTimeoutsAcrossProcesses(t *testing.T) {
	slow(t)
	c := startCluster(t, testappBin.get(t), 1)
	info := createSession(t, c.webs[0], "timed", 3, map[string]any{"timeout_ms": 2000})
	ps := participants(info, c.webs[0])
	players, absent := ps[:2], ps[2]
	openStartLinkOnly(t, absent)
	for _, p := range players {
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
	}

	for _, step := range []struct {
		page, wait, next string
		index            int
	}{
		{"First", "Wait1", "Last", 1},
		{"Last", "Wait2", "End", 3},
	} {
		deadline, page := expiry(t, c.db, absent.code)
		if page != step.index {
			t.Fatalf("the absent participant's deadline is for page %d, want %d", page, step.index)
		}
		var all errs
		var wg sync.WaitGroup
		left := make([]time.Time, len(players))
		for i, p := range players {
			wg.Go(func() {
				if !p.on(step.page, step.index) {
					all.add(fmt.Errorf("%s: on %s, want %s", p, p.path, step.page))
					return
				}
				if err := p.submit(url.Values{"answer": {"5"}}); err != nil {
					all.add(err)
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				if p.on(step.wait, step.index+1) {
					all.add(p.waitPage(ctx))
				}
				left[i] = time.Now()
				if !p.on(step.next, step.index+2) {
					all.add(fmt.Errorf("%s: on %s after the wait, want %s", p, p.path, step.next))
				}
			})
		}
		wg.Wait()
		all.report(t)
		for i, p := range players {
			late := left[i].Sub(deadline)
			t.Logf("page %s: %s on %s %v after the absent participant's deadline", step.page, p,
				step.next, late.Round(time.Millisecond))
			if late < 0 || late > time.Second {
				t.Errorf("page %s: %s reached %s %v after the absent participant's deadline, "+
					"want within 1 s after it", step.page, p, step.next, late)
			}
		}
	}

	row := timedPlayers(t, c.db, "timed", info.Code)[absent.code]
	if !row.FirstTimedOut || !row.LastTimedOut || row.FirstSubmits != 1 || row.LastSubmits != 1 {
		t.Errorf("absent participant's row %+v, want both pages submitted once, by timeout", row)
	}
	for _, page := range []int{1, 3} {
		pts := pageTimes(t, c.db, info.Code, page)
		if got := pts[absent.code]; len(got) != 1 || !got[0].TimeoutHappened {
			t.Errorf("page %d: absent participant's page-time rows %+v, want one with a timeout", page, got)
		}
		for _, p := range players {
			if got := pts[p.code]; len(got) != 1 || got[0].TimeoutHappened {
				t.Errorf("page %d: %s's page-time rows %+v, want one without a timeout", page, p, got)
			}
		}
	}
}

// submittedOnce waits until the solo participant's First page has been
// submitted, and checks, after a further second, that it was submitted
// exactly once, by its timeout. It returns when the submission was seen.
func submittedOnce(t *testing.T, db *gorm.DB, session, code string, limit time.Duration) time.Time {
	t.Helper()
	var seen time.Time
	if !waitUntil(limit, func() bool { return len(pageTimes(t, db, session, 1)[code]) > 0 }) {
		t.Fatalf("the timed page was not submitted within %v", limit)
	}
	seen = time.Now()
	time.Sleep(time.Second)
	rows := pageTimes(t, db, session, 1)[code]
	player := timedPlayers(t, db, "solo", session)[code]
	if len(rows) != 1 || !rows[0].TimeoutHappened || player.FirstSubmits != 1 || !player.FirstTimedOut {
		t.Errorf("page-time rows %+v and player %+v, want one submission, by timeout", rows, player)
	}
	return seen
}

// notSubmitted checks that the solo participant is still on the timed page.
func notSubmitted(t *testing.T, db *gorm.DB, session, code string) {
	t.Helper()
	if rows := pageTimes(t, db, session, 1)[code]; len(rows) > 0 {
		t.Fatalf("the timed page was submitted (%+v) with no timeout worker running", rows)
	}
}

// soloOnCluster starts a cluster with one web server, creates a "solo"
// session with a 4 s timed page and opens it for its participant. It
// returns the session, the participant and the page's stored deadline.
func soloOnCluster(t *testing.T) (*cluster, sessionInfo, *participant, time.Time) {
	t.Helper()
	c := startCluster(t, testappBin.get(t), 1)
	info := createSession(t, c.webs[0], "solo", 1, map[string]any{"timeout_ms": 4000})
	p := participants(info, c.webs[0])[0]
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	deadline, _ := expiry(t, c.db, p.code)
	return c, info, p, deadline
}

// A timeout worker (asynq) killed with SIGKILL between a page's render and
// its deadline, and a new worker started after the deadline: the new
// worker submits the page at once, exactly once. Killed early, the worker
// leaves the task in Redis. Killed while it holds the task (asynq hands
// tasks over one to two seconds before they are due), it leaves the task
// with asynq until its lease expires, a minute or two; the new worker does
// not wait for that but submits the stored deadline itself.
func TestTimeoutWorkerKilled(t *testing.T) {
	slow(t)
	for _, tt := range []struct {
		name    string
		killAt  func(deadline time.Time) time.Duration // how long after render
		minLeft time.Duration                          // the least time left at the kill
	}{
		{"before it holds the task", func(time.Time) time.Duration { return 500 * time.Millisecond },
			2500 * time.Millisecond},
		{"holding the task", func(d time.Time) time.Duration { return time.Until(d) - 500*time.Millisecond }, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, info, p, deadline := soloOnCluster(t)
			time.Sleep(tt.killAt(deadline))
			c.timeouts.kill()
			left := time.Until(deadline)
			t.Logf("worker killed %v before the deadline", left.Round(time.Millisecond))
			if left < tt.minLeft {
				t.Fatalf("the worker was killed only %v before the deadline, want more than %v", left, tt.minLeft)
			}
			time.Sleep(time.Until(deadline) + time.Second)
			notSubmitted(t, c.db, info.Code, p.code)

			started := time.Now()
			c.timeouts = startWorker(t, "timeouts2", c.bin, c.env, "runtimeoutworker")
			seen := submittedOnce(t, c.db, info.Code, p.code, 10*time.Second)
			t.Logf("submitted %v after the new worker started (%v after the deadline)",
				seen.Sub(started).Round(time.Millisecond), seen.Sub(deadline).Round(time.Millisecond))
			if seen.Sub(started) > 5*time.Second {
				t.Errorf("submitted %v after the new worker started, want within 5 s", seen.Sub(started))
			}
		})
	}
}

// The single process of the dev server, with in-process deadlines, killed
// with SIGKILL between a page's render and its deadline and started again
// after the deadline, submits the page at once, exactly once.
func TestDevserverKilled(t *testing.T) {
	slow(t)
	bin := testappBin.get(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			var env []string
			var dbURL string
			if db == "postgres" {
				dbURL = postgresSchema(t)
				env = append(env, "DATABASE_URL="+dbURL)
			}
			first, base := startServer(t, "devserver", bin, dir, env, "devserver", "127.0.0.1:0")
			info := createSession(t, base, "solo", 1, map[string]any{"timeout_ms": 3000})
			p := participants(info, base)[0]
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
			gdb := openDB(t, dbURL, dir+"/db.sqlite3")
			deadline, _ := expiry(t, gdb, p.code)
			time.Sleep(500 * time.Millisecond)
			first.kill()
			time.Sleep(time.Until(deadline) + time.Second)
			notSubmitted(t, gdb, info.Code, p.code)

			started := time.Now()
			startServer(t, "devserver2", bin, dir, env, "devserver", "127.0.0.1:0")
			seen := submittedOnce(t, gdb, info.Code, p.code, 10*time.Second)
			t.Logf("submitted %v after the restart (%v after the deadline)",
				seen.Sub(started).Round(time.Millisecond), seen.Sub(deadline).Round(time.Millisecond))
			if seen.Sub(started) > 5*time.Second {
				t.Errorf("submitted %v after the restart, want within 5 s", seen.Sub(started))
			}
		})
	}
}

// 200 participants each post their timed page at its deadline, as the
// timeout worker (asynq, its own process) fires it: every page is submitted
// exactly once.
func TestPostAtDeadlineSubmitsOnce(t *testing.T) {
	slow(t)
	const runs = 200
	c := startCluster(t, testappBin.get(t), 1)
	info := createSession(t, c.webs[0], "solo", runs, map[string]any{"timeout_ms": 1000})
	var all errs
	var wg sync.WaitGroup
	for i, p := range participants(info, c.webs[0]) {
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
		cfg, err := p.config()
		if err != nil || cfg.Deadline == 0 {
			t.Fatalf("%s: the timed page shows no deadline (%v)", p, err)
		}
		wg.Go(func() {
			time.Sleep(time.Until(time.UnixMilli(cfg.Deadline)))
			// Half post as the page script does when its countdown ends,
			// half as a participant clicking at the last moment.
			form := url.Values{"answer": {"3"}}
			if i%2 == 0 {
				form.Set("timeout_happened", "1")
			}
			r, err := p.do("POST", p.path, form)
			if err == nil && r.status != http.StatusFound {
				err = fmt.Errorf("%s: POST at the deadline: status %d, want 302", p, r.status)
			}
			all.add(err)
		})
	}
	wg.Wait()
	all.report(t)

	var rows map[string][]pageTime
	waitUntil(10*time.Second, func() bool {
		rows = pageTimes(t, c.db, info.Code, 1)
		return len(rows) == runs
	})
	time.Sleep(time.Second)
	rows = pageTimes(t, c.db, info.Code, 1)
	players := timedPlayers(t, c.db, "solo", info.Code)
	timedOut := 0
	for _, p := range info.Participants {
		got, pl := rows[p.Code], players[p.Code]
		if len(got) != 1 || pl.FirstSubmits != 1 {
			t.Errorf("participant %d: %d page-time rows, BeforeNextPage committed %d times; want 1 and 1",
				p.IDInSession, len(got), pl.FirstSubmits)
		}
		if pl.FirstTimedOut {
			timedOut++
		}
	}
	t.Logf("%d of %d pages were submitted as timed out, the others by the participant's POST",
		timedOut, runs)
}

// A deadline whose task is lost while the timeout worker runs (here
// cancelled behind gotree's back; in life, held by a second worker that
// died) is still submitted from the stored deadline a few seconds late,
// exactly once.
func TestLostTaskIsSwept(t *testing.T) {
	slow(t)
	c, info, p, deadline := soloOnCluster(t)
	_, page := expiry(t, c.db, p.code)
	var id int64
	if err := c.db.Raw(`SELECT id FROM otree_participant WHERE code = ?`, p.code).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	sched, err := asynq.New(context.Background(), envValue(c.env, "REDIS_URL"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	// The key gotree gives a page deadline's task.
	if err := sched.Cancel(context.Background(), fmt.Sprintf("timeout-%d-%d", id, page)); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(deadline); left < 2500*time.Millisecond {
		t.Fatalf("the task was cancelled only %v before the deadline, want more than 2.5 s", left)
	}
	time.Sleep(time.Until(deadline) + time.Second)
	notSubmitted(t, c.db, info.Code, p.code)

	seen := submittedOnce(t, c.db, info.Code, p.code, 15*time.Second)
	late := seen.Sub(deadline)
	t.Logf("submitted %v after the deadline", late.Round(time.Millisecond))
	if late > 8*time.Second {
		t.Errorf("a lost deadline was submitted %v late, want within 8 s", late)
	}
}

// envValue returns the value of name in env, a list of NAME=value.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// A participant who keeps a timed page open, with its auto-advance socket,
// and does not submit it: the timeout worker (asynq) submits the page at
// the deadline, and the socket, served by the web server from the channel
// layer, tells the page within 1 s of the deadline, so that it reloads
// onto the next page.
func TestAutoAdvanceAcrossProcesses(t *testing.T) {
	slow(t)
	c := startCluster(t, testappBin.get(t), 1)
	info := createSession(t, c.webs[0], "solo", 1, map[string]any{"timeout_ms": 2000})
	p := participants(info, c.webs[0])[0]
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	cfg, err := p.config()
	if err != nil || cfg.AutoAdvance == "" || cfg.Deadline == 0 {
		t.Fatalf("%s: the timed page's configuration %+v has no auto-advance socket or deadline (%v)",
			p, cfg, err)
	}
	deadline := time.UnixMilli(cfg.Deadline)
	ctx, cancel := context.WithTimeout(context.Background(), time.Until(deadline)+10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+cfg.AutoAdvance,
		&websocket.DialOptions{HTTPClient: httpClient})
	if err != nil {
		t.Fatalf("open the auto-advance socket: %v", err)
	}
	defer ws.CloseNow()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no auto-advance message: %v", err)
		}
		var m struct {
			AutoAdvanced bool `json:"auto_advanced"`
		}
		if json.Unmarshal(msg, &m) == nil && m.AutoAdvanced {
			break
		}
	}
	late := time.Since(deadline)
	t.Logf("auto-advance message %v after the deadline", late.Round(time.Millisecond))
	if late < 0 || late > time.Second {
		t.Errorf("auto-advance message %v after the deadline, want within 1 s after it", late)
	}
	if err := p.get(p.path); err != nil {
		t.Fatal(err)
	}
	if !p.on("End", 2) {
		t.Errorf("%s: reloaded onto %s, want End", p, p.path)
	}
}
