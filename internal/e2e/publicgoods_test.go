package e2e

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// A cluster is gotree deployed as separate processes sharing Postgres and
// Redis: web servers, a channels worker and a timeout worker.
type cluster struct {
	bin      string
	env      []string // DATABASE_URL and REDIS_URL
	db       *gorm.DB // the cluster's database, for the test's checks
	webs     []string // the web servers' base URLs
	chans    *proc
	timeouts *proc
}

// startCluster starts webs web servers (runserver --noworker), a channels
// worker with four threads and a timeout worker, on a fresh Postgres schema
// and Redis database.
func startCluster(t *testing.T, bin string, webs int) *cluster {
	t.Helper()
	return startClusterOn(t, bin, webs, postgresSchema(t))
}

// startClusterOn is startCluster on the Postgres database at dbURL.
func startClusterOn(t *testing.T, bin string, webs int, dbURL string) *cluster {
	t.Helper()
	c := &cluster{bin: bin, env: []string{"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisDB(t)}}
	c.db = openDB(t, dbURL, "")

	// The first process creates the tables; the others then start together.
	_, base := startServer(t, "web1", bin, "", c.env, "runserver", "127.0.0.1:0", "--noworker")
	c.webs = append(c.webs, base)
	var more []*proc
	for i := 2; i <= webs; i++ {
		more = append(more, startProc(t, "web"+strconv.Itoa(i), bin, "", c.env,
			"runserver", "127.0.0.1:0", "--noworker"))
	}
	c.chans = startProc(t, "channels", bin, "", c.env, "runchannelsworker", "--num-threads=4")
	c.timeouts = startProc(t, "timeouts", bin, "", c.env, "runtimeoutworker")
	for _, p := range more {
		m := p.waitOutput(t, servingRE, 30*time.Second)
		c.webs = append(c.webs, "http://127.0.0.1:"+m[1])
	}
	c.chans.waitOutput(t, runningRE, 30*time.Second)
	c.timeouts.waitOutput(t, runningRE, 30*time.Second)
	return c
}

// A pgMember is a participant of a public goods session with its group.
type pgMember struct {
	*participant
	group       int // the group's number in the subsession
	idInGroup   int
	contributes int
}

// publicGoodsSession creates a public_goods_simple session of n and returns
// its participants, spread over the cluster's web servers so that the
// members of each group use different ones, each with the amount
// contribution(id_in_session) to contribute.
func (c *cluster) publicGoodsSession(t *testing.T, n int,
	contribution func(id int) int) (string, []*pgMember) {
	t.Helper()
	info := createSession(t, c.webs[0], "public_goods_simple", n, nil)
	var rows []struct {
		Code        string
		IDInSession int
		IDInGroup   int
		GroupNumber int
	}
	err := c.db.Raw(`SELECT p.code, p.id_in_session, pl.id_in_group, g.id_in_subsession AS group_number
		FROM public_goods_simple_player pl
		JOIN otree_participant p ON p.id = pl.participant_id
		JOIN public_goods_simple_group g ON g.id = pl.group_id
		JOIN otree_session s ON s.id = p.session_id
		WHERE s.code = ? ORDER BY p.id_in_session`, info.Code).Scan(&rows).Error
	if err != nil || len(rows) != n {
		t.Fatalf("read the groups of session %s: %v (%d rows, want %d)", info.Code, err, len(rows), n)
	}
	var members []*pgMember
	ports := map[int]map[string]bool{}
	for _, r := range rows {
		base := c.webs[(r.GroupNumber+r.IDInGroup)%len(c.webs)]
		if ports[r.GroupNumber] == nil {
			ports[r.GroupNumber] = map[string]bool{}
		}
		ports[r.GroupNumber][base] = true
		members = append(members, &pgMember{
			participant: newParticipant(r.Code, r.IDInSession, base),
			group:       r.GroupNumber, idInGroup: r.IDInGroup, contributes: contribution(r.IDInSession),
		})
	}
	for g, used := range ports {
		if len(c.webs) > 1 && len(used) < 2 {
			t.Fatalf("group %d uses only web server %v", g, used)
		}
	}
	return info.Code, members
}

// share is what each member of a public goods group of three gets from a
// total contribution: the total times 1.8, then divided by 3, in points
// rounded half up after each step, as oTree's Currency does.
func share(total int) int {
	times18 := halfUp(float64(total) * 1.8)
	return halfUp(float64(times18) / 3)
}

func halfUp(x float64) int { return int(math.Floor(x + 0.5)) }

// checkPublicGoods checks a finished public goods session: every
// participant's payoff in the REST API, each group's totals in Postgres,
// and that each group's wait page completed once.
func (c *cluster) checkPublicGoods(t *testing.T, code string, members []*pgMember) {
	t.Helper()
	totals := map[int]int{}
	for _, m := range members {
		totals[m.group] += m.contributes
	}
	info, err := getSession(c.webs[len(c.webs)-1], code)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, m := range members {
		want[m.code] = 100 - m.contributes + share(totals[m.group])
	}
	for _, p := range info.Participants {
		if p.Points != float64(want[p.Code]) {
			t.Errorf("participant %d: payoff %v points, want %d", p.IDInSession, p.Points, want[p.Code])
		}
	}

	var groups []struct {
		Number          int `gorm:"column:id_in_subsession"`
		Total           *float64
		IndividualShare *float64
	}
	c.db.Raw(`SELECT g.id_in_subsession, g.total_contribution AS total, g.individual_share
		FROM public_goods_simple_group g JOIN otree_session s ON s.id = g.session_id
		WHERE s.code = ? ORDER BY g.id_in_subsession`, code).Scan(&groups)
	if len(groups) != len(totals) {
		t.Errorf("%d group rows, want %d", len(groups), len(totals))
	}
	for _, g := range groups {
		if g.Total == nil || *g.Total != float64(totals[g.Number]) ||
			g.IndividualShare == nil || *g.IndividualShare != float64(share(totals[g.Number])) {
			t.Errorf("group %d: total %v, share %v; want %d and %d", g.Number, deref(g.Total),
				deref(g.IndividualShare), totals[g.Number], share(totals[g.Number]))
		}
	}

	// The wait page is page 2: one completion record per group, and one
	// page-time row per participant.
	var done []struct{ GroupID, N int64 }
	c.db.Raw(`SELECT w.group_id, count(*) AS n FROM otree_wait_done w
		JOIN otree_session s ON s.id = w.session_id
		WHERE s.code = ? AND w.page_index = 2 GROUP BY w.group_id`, code).Scan(&done)
	if len(done) != len(totals) {
		t.Errorf("the wait page completed for %d groups, want %d", len(done), len(totals))
	}
	for _, d := range done {
		if d.N != 1 {
			t.Errorf("group id %d: %d completion records of the wait page, want 1", d.GroupID, d.N)
		}
	}
	var passed []struct{ Code string }
	c.db.Raw(`SELECT p.code FROM otree_page_time pt
		JOIN otree_participant p ON p.id = pt.participant_id
		JOIN otree_session s ON s.id = pt.session_id
		WHERE s.code = ? AND pt.page_index = 2`, code).Scan(&passed)
	seen := map[string]int{}
	for _, r := range passed {
		seen[r.Code]++
	}
	for _, m := range members {
		if seen[m.code] != 1 {
			t.Errorf("%s: %d page-time rows for the wait page, want 1", m, seen[m.code])
		}
	}
}

func deref(f *float64) any {
	if f == nil {
		return "NULL"
	}
	return *f
}

func contributionForm(m *pgMember) url.Values {
	return url.Values{"contribution": {strconv.Itoa(m.contributes)}}
}

// Two web servers, a channels worker and a timeout worker, as four
// processes, serve one session of 30: every group, whose members sit on
// different web servers, is released, the payoffs are right, and each
// group's wait page completes once.
func TestPublicGoodsAcrossProcesses(t *testing.T) {
	slow(t)
	c := startCluster(t, examplesBin.get(t), 2)
	for _, tc := range []struct {
		name         string
		contribution func(id int) int
	}{
		{"ones", func(int) int { return 1 }},
		{"distinct", func(id int) int { return id * 37 % 101 }}, // 37 is prime to 101
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, members := c.publicGoodsSession(t, 30, tc.contribution)
			started := time.Now()
			waited := playAll(t, members)
			t.Logf("30 participants played in %v; %d of them were released by the wait-page socket",
				time.Since(started).Round(time.Millisecond), waited)
			c.checkPublicGoods(t, code, members)
		})
	}
}

// playAll plays every member at once: each opens the start link, then all
// submit together, and those who must wait do so as a browser would. It
// returns how many waited for their socket to say ready.
func playAll(t *testing.T, members []*pgMember) int {
	t.Helper()
	var waited atomic.Int32
	var all errs
	var started, done sync.WaitGroup
	begin := make(chan struct{})
	for _, m := range members {
		started.Add(1)
		done.Go(func() {
			err := m.start()
			if err == nil && !m.on("Contribute", 1) {
				err = fmt.Errorf("%s: started on %s, want Contribute", m, m.path)
			}
			started.Done()
			if err != nil {
				all.add(err)
				return
			}
			<-begin
			w, err := playFromContribute(m, 30*time.Second)
			if w {
				waited.Add(1)
			}
			all.add(err)
		})
	}
	started.Wait()
	close(begin)
	done.Wait()
	all.report(t)
	return int(waited.Load())
}

// playFromContribute submits m's contribution, waits on the wait page if
// it lands there, and checks that m ends on the results. It reports
// whether m waited.
func playFromContribute(m *pgMember, limit time.Duration) (waited bool, err error) {
	if err := m.submit(contributionForm(m)); err != nil {
		return false, err
	}
	if m.on("ResultsWaitPage", 2) {
		waited = true
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		if err := m.waitPage(ctx); err != nil {
			return waited, err
		}
	}
	if !m.on("Results", 3) {
		return waited, fmt.Errorf("%s: ended on %s, want Results", m, m.path)
	}
	return waited, nil
}

// The channels worker is killed (SIGKILL) while participants wait with open
// sockets; more arrive at wait pages while no worker runs; then every group
// completes and a new worker starts. No one is left on a wait page: every
// waiting participant is on the results within 30 s of their group's
// completion, through the socket alone, as a browser would be.
func TestChannelsWorkerKilled(t *testing.T) {
	slow(t)
	c := startCluster(t, examplesBin.get(t), 2)
	code, members := c.publicGoodsSession(t, 30, func(id int) int { return id * 37 % 101 })
	var all errs
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			all.add(m.start())
		})
	}
	wg.Wait()
	all.report(t)
	byGroup := map[int][]*pgMember{}
	for _, m := range members {
		byGroup[m.group] = append(byGroup[m.group], m)
	}
	for _, g := range byGroup {
		sort.Slice(g, func(i, j int) bool { return g[i].idInGroup < g[j].idInGroup })
	}

	// Waiting participants leave through their sockets, within 30 s of the
	// groups' completion once that is known.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	left := map[*pgMember]time.Time{}
	var waiting []*pgMember
	wait := func(m *pgMember) {
		if err := m.submit(contributionForm(m)); err != nil {
			t.Fatal(err)
		}
		if !m.on("ResultsWaitPage", 2) {
			t.Fatalf("%s: on %s after contributing, want the wait page", m, m.path)
		}
		waiting = append(waiting, m)
		wg.Go(func() {
			if err := m.waitPage(ctx); err != nil {
				all.add(err)
				return
			}
			mu.Lock()
			left[m] = time.Now()
			mu.Unlock()
		})
	}

	// Groups 1 to 5: two members wait, their sockets open and known to the
	// worker, when it dies.
	for g := 1; g <= 5; g++ {
		wait(byGroup[g][0])
		wait(byGroup[g][1])
	}
	time.Sleep(time.Second)
	c.chans.kill()
	t.Logf("channels worker killed: %v", c.chans.err)

	// Groups 6 to 10: two members arrive while no worker runs.
	for g := 6; g <= 10; g++ {
		wait(byGroup[g][0])
		wait(byGroup[g][1])
	}
	time.Sleep(time.Second)

	// The last members complete every group.
	completed := time.Now()
	time.AfterFunc(30*time.Second, cancel)
	var last sync.WaitGroup
	for g := 1; g <= 10; g++ {
		m := byGroup[g][2]
		last.Go(func() {
			if err := m.submit(contributionForm(m)); err != nil {
				all.add(err)
			} else if !m.on("Results", 3) {
				all.add(fmt.Errorf("%s: completed the group but is on %s, want Results", m, m.path))
			}
		})
	}
	last.Wait()
	time.Sleep(time.Second)
	mu.Lock()
	t.Logf("%d of %d waiting participants left before a new channels worker started",
		len(left), len(waiting))
	mu.Unlock()

	c.chans = startWorker(t, "channels2", c.bin, c.env, "runchannelsworker", "--num-threads=4")
	wg.Wait()
	all.report(t)
	for _, m := range waiting {
		at, ok := left[m]
		switch {
		case !ok:
			t.Errorf("%s: still on the wait page", m)
		case at.Sub(completed) > 30*time.Second:
			t.Errorf("%s: left the wait page %v after the group completed, want within 30 s", m,
				at.Sub(completed))
		default:
			t.Logf("%s (group %d): results %v after the groups completed, %d socket reconnect(s)",
				m, m.group, at.Sub(completed).Round(time.Millisecond), m.reconnects.Load())
		}
	}
	c.checkPublicGoods(t, code, members)
}
