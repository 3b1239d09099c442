package otree_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// Tests of consistency under concurrency and of edge cases in the flow and
// in input handling.

// A member who skips a wait page (IsDisplayed false) and arrives last
// releases the members already waiting.

type skSub struct {
	otree.BaseSubsession[skSub, skGroup, skPlayer]
}
type skGroup struct {
	otree.BaseGroup[skSub, skGroup, skPlayer]
	Released bool
}
type skPlayer struct {
	otree.BasePlayer[skSub, skGroup, skPlayer]
	X int
}
type skFirst struct{ otree.Page }

func (skFirst) FormFields() []string { return []string{"X"} }

type skWait struct{ otree.WaitPage }

func (skWait) IsDisplayed(p *skPlayer) bool     { return p.IDInGroup() == 1 }
func (skWait) AfterAllPlayersArrive(g *skGroup) { g.Released = true }

type skEnd struct{ otree.Page }

var skApp = &otree.App[skSub, skGroup, skPlayer]{
	Name: "skipwait", PlayersPerGroup: 2,
	Pages: []otree.AnyPage{skFirst{}, skWait{}, skEnd{}},
}
var skProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "skipwait", Apps: []otree.Application{skApp}, NumDemoParticipants: 2},
}}

func TestSkipperArrivingLastReleasesWaiters(t *testing.T) {
	forEachDB(t, skProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "skipwait", 2)
		c := newClient(t, s.URL)
		var paths []string
		for _, code := range codes {
			p, _ := c.follow("/InitializeParticipant/" + code)
			paths = append(paths, p)
		}
		// Player 1 (shown the wait page) arrives first and waits.
		r := c.post(paths[0], url.Values{"x": {"1"}})
		if !strings.Contains(r.location, "/skWait/2") {
			t.Fatalf("player 1 went to %s", r.location)
		}
		// Player 2 skips the wait page and is the last to get there.
		r = c.post(paths[1], url.Values{"x": {"2"}})
		if !strings.Contains(r.location, "/skEnd/3") {
			t.Fatalf("player 2 went to %s", r.location)
		}
		if err := waitReady(t, s.URL, codes[0], 2, 3*time.Second); err != nil {
			t.Errorf("player 1 was never released from the wait page: %v", err)
		}
		got, _ := c.follow(r.location)
		_ = got
		p1, _ := c.follow(paths[0])
		if !strings.Contains(p1, "/skEnd/3") {
			t.Errorf("player 1 is stuck on %s, want skEnd/3", p1)
		}
	})
}

// AfterAllPlayersArrive sees what other members committed, also rows the
// releasing request read before it took the wait page's lock (Postgres).

type rvSub struct {
	otree.BaseSubsession[rvSub, rvGroup, rvPlayer]
}
type rvGroup struct {
	otree.BaseGroup[rvSub, rvGroup, rvPlayer]
	Total int
}
type rvPlayer struct {
	otree.BasePlayer[rvSub, rvGroup, rvPlayer]
	Contribution int `max:"100"`
}
type rvContribute struct{ otree.Page }

func (rvContribute) FormFields() []string { return []string{"Contribution"} }

var rvGate = make(chan struct{})

func (rvContribute) BeforeNextPage(p *rvPlayer, _ bool) {
	// The experimenter looks at the group (for instance to count who has
	// contributed so far).
	for _, o := range p.Group().Players() {
		_ = o.Contribution
	}
	if p.IDInGroup() == 1 {
		<-rvGate // a slow hook, or a slow network to the database
	}
}

type rvWait struct{ otree.WaitPage }

func (rvWait) AfterAllPlayersArrive(g *rvGroup) {
	g.Total = 0
	for _, p := range g.Players() {
		g.Total += p.Contribution
	}
}

type rvEnd struct{ otree.Page }

var rvApp = &otree.App[rvSub, rvGroup, rvPlayer]{
	Name: "stale", PlayersPerGroup: 2,
	Pages: []otree.AnyPage{rvContribute{}, rvWait{}, rvEnd{}},
}
var rvProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "stale", Apps: []otree.Application{rvApp}, NumDemoParticipants: 2},
}}

func TestAfterAllSeesFreshRows(t *testing.T) {
	forEachDB(t, rvProject, func(t *testing.T, s *otreetest.Server) {
		rvGate = make(chan struct{})
		_, codes := session(t, s.URL, "stale", 2)
		c := newClient(t, s.URL)
		var paths []string
		for _, code := range codes {
			p, _ := c.follow("/InitializeParticipant/" + code)
			paths = append(paths, p)
		}
		var wg sync.WaitGroup
		wg.Go(func() { c.post(paths[0], url.Values{"contribution": {"10"}}) })
		time.Sleep(300 * time.Millisecond) // player 1's hook has read the group
		wg.Go(func() { c.post(paths[1], url.Values{"contribution": {"20"}}) })
		time.Sleep(500 * time.Millisecond) // player 2 has committed (on Postgres)
		close(rvGate)
		wg.Wait()
		var total int
		openDB(t, s).Raw(`SELECT total FROM stale_group`).Scan(&total)
		if total != 30 {
			t.Errorf("group total %d, want 30: AfterAllPlayersArrive saw a stale row", total)
		}
	})
}

// Session and participant vars changed by concurrent groups' hooks lose
// no update.

type svSub struct {
	otree.BaseSubsession[svSub, svGroup, svPlayer]
}
type svGroup struct {
	otree.BaseGroup[svSub, svGroup, svPlayer]
}
type svPlayer struct {
	otree.BasePlayer[svSub, svGroup, svPlayer]
	X int
}
type svFirst struct{ otree.Page }

func (svFirst) FormFields() []string { return []string{"X"} }

type svWait struct{ otree.WaitPage }

func (svWait) AfterAllPlayersArrive(g *svGroup) {
	s := g.Session()
	n, _ := otree.Get[int](s.Vars, "released")
	time.Sleep(20 * time.Millisecond) // some work
	s.Vars["released"] = n + 1
	for _, p := range g.Players() {
		pv := p.Participant().Vars
		k, _ := otree.Get[int](pv, "k")
		pv["k"] = k + 1
	}
}

type svEnd struct{ otree.Page }

var svApp = &otree.App[svSub, svGroup, svPlayer]{
	Name: "svars", PlayersPerGroup: 2,
	Pages: []otree.AnyPage{svFirst{}, svWait{}, svEnd{}},
}
var svProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "svars", Apps: []otree.Application{svApp}, NumDemoParticipants: 2},
}}

func TestVarsOfConcurrentGroups(t *testing.T) {
	forEachDB(t, svProject, func(t *testing.T, s *otreetest.Server) {
		const groups = 10
		code, codes := session(t, s.URL, "svars", 2*groups)
		c := newClient(t, s.URL)
		var paths []string
		for _, pc := range codes {
			p, _ := c.follow("/InitializeParticipant/" + pc)
			paths = append(paths, p)
		}
		for i := 0; i < len(paths); i += 2 {
			c.post(paths[i], url.Values{"x": {"1"}})
		}
		var wg sync.WaitGroup
		for i := 1; i < len(paths); i += 2 {
			wg.Go(func() {
				if r := c.post(paths[i], url.Values{"x": {"1"}}); r.status != http.StatusFound {
					t.Errorf("participant %d: status %d, want 302", i+1, r.status)
				}
			})
		}
		wg.Wait()
		var vars string
		openDB(t, s).Raw(`SELECT vars FROM otree_session WHERE code = ?`, code).Scan(&vars)
		if !strings.Contains(vars, `"released":10`) {
			t.Errorf("session vars %s, want released 10: lost updates", vars)
		}
	})
}

// Input a field's type or the database cannot hold is rejected.

type inSub struct {
	otree.BaseSubsession[inSub, inGroup, inPlayer]
}
type inGroup struct {
	otree.BaseGroup[inSub, inGroup, inPlayer]
}
type inPlayer struct {
	otree.BasePlayer[inSub, inGroup, inPlayer]
	Small int32
	Name  string
}
type inFirst struct{ otree.Page }

func (inFirst) FormFields() []string { return []string{"Small", "Name"} }

type inEnd struct{ otree.Page }

var inApp = &otree.App[inSub, inGroup, inPlayer]{
	Name: "inputs", Pages: []otree.AnyPage{inFirst{}, inEnd{}},
}
var inProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "inputs", Apps: []otree.Application{inApp}, NumDemoParticipants: 1,
		Params: map[string]any{"rounds": 3, "greeting": "hello"}},
}}

func TestNarrowIntOverflowRejected(t *testing.T) {
	forEachDB(t, inProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "inputs", 1)
		c := newClient(t, s.URL)
		p, _ := c.follow("/InitializeParticipant/" + codes[0])
		r := c.post(p, url.Values{"small": {"4294967297"}, "name": {"x"}})
		var v int64
		openDB(t, s).Raw(`SELECT small FROM inputs_player`).Scan(&v)
		if r.status == http.StatusFound && v != 4294967297 {
			t.Errorf("4294967297 accepted (status %d) and stored as %d", r.status, v)
		}
	})
}

// Numbers are plain decimals: exponents and hex are refused with a field
// error and nothing stored; too many digits say the number is too large.
func TestNumberFormats(t *testing.T) {
	forEachDB(t, inProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "inputs", 1)
		c := newClient(t, s.URL)
		p, _ := c.follow("/InitializeParticipant/" + codes[0])
		for _, tt := range []struct{ in, msg string }{
			{"1e2", "Please enter a whole number."},
			{"0x10", "Please enter a whole number."},
			{"5.5", "Please enter a whole number."},
			{"100000000000000000000000", "Please enter a smaller number."},
			{"-100000000000000000000000", "Please enter a larger number."},
		} {
			r := c.post(p, url.Values{"small": {tt.in}, "name": {"x"}})
			if r.status != http.StatusOK || !strings.Contains(r.body, tt.msg) {
				t.Errorf("small=%s: status %d, want the form again with %q", tt.in, r.status, tt.msg)
			}
		}
		var n int
		openDB(t, s).Raw(`SELECT count(*) FROM inputs_player WHERE small IS NOT NULL`).Scan(&n)
		if n != 0 {
			t.Errorf("%d rows with small stored after refused input, want 0", n)
		}
		if r := c.post(p, url.Values{"small": {"25.0"}, "name": {"x"}}); r.status != http.StatusFound {
			t.Errorf("small=25.0: status %d, want 302", r.status)
		}
		var v int64
		openDB(t, s).Raw(`SELECT small FROM inputs_player`).Scan(&v)
		if v != 25 {
			t.Errorf("small=25.0 stored as %d, want 25", v)
		}
	})
}

func TestNULInTextRejected(t *testing.T) {
	forEachDB(t, inProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "inputs", 1)
		c := newClient(t, s.URL)
		p, _ := c.follow("/InitializeParticipant/" + codes[0])
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			r := c.post(p, url.Values{"small": {"1"}, "name": {bad}})
			if r.status >= 500 {
				t.Errorf("name %q: status %d: participant input gives a server error", bad, r.status)
			}
		}
	})
}

func TestRESTHugeFeeRejected(t *testing.T) {
	s := otreetest.NewServer(t, inProject, &otree.ServerOptions{Logger: quietLogger()})
	body := strings.NewReader(`{"session_config_name": "inputs", "num_participants": 1,
		"modified_session_config_fields": {"participation_fee": 1e20}}`)
	resp, err := http.Post(s.URL+"/api/sessions", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a fee of 1e20: status %d, want 400", resp.StatusCode)
	}
}

// A blank answer is stored as NULL.

type nuSub struct {
	otree.BaseSubsession[nuSub, nuGroup, nuPlayer]
}
type nuGroup struct {
	otree.BaseGroup[nuSub, nuGroup, nuPlayer]
}
type nuPlayer struct {
	otree.BasePlayer[nuSub, nuGroup, nuPlayer]
	Age   int  `initial:"18" blank:"true"`
	Later int  // a form field of page 2, preset by a hook on page 1
	Agree bool // likewise
}
type nuFirst struct{ otree.Page }

func (nuFirst) FormFields() []string { return []string{"Age"} }
func (nuFirst) BeforeNextPage(p *nuPlayer, _ bool) {
	p.Later = 0 // a default the participant may change
	p.Agree = false
}

type nuSecond struct{ otree.Page }

func (nuSecond) FormFields() []string { return []string{"Later", "Agree"} }
func (nuSecond) VarsForTemplate(p *nuPlayer) otree.Vars {
	return otree.Vars{"laterSet": p.IsSet(&p.Later)}
}

var nuApp = &otree.App[nuSub, nuGroup, nuPlayer]{
	Name: "nulls", Pages: []otree.AnyPage{nuFirst{}, nuSecond{}},
}
var nuProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "nulls", Apps: []otree.Application{nuApp}, NumDemoParticipants: 1},
}}

func TestBlankAnswerStoredAsNull(t *testing.T) {
	forEachDB(t, nuProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "nulls", 1)
		c := newClient(t, s.URL)
		p, _ := c.follow("/InitializeParticipant/" + codes[0])
		r := c.post(p, url.Values{"age": {""}}) // blank is allowed
		if r.status != http.StatusFound {
			t.Fatalf("blank age: status %d", r.status)
		}
		var age, later, agree []any
		db := openDB(t, s)
		db.Raw(`SELECT age FROM nulls_player`).Scan(&age)
		db.Raw(`SELECT later FROM nulls_player`).Scan(&later)
		db.Raw(`SELECT agree FROM nulls_player`).Scan(&agree)
		if age[0] != nil {
			t.Errorf("a blank answer to Age (initial 18) is stored as %v, want NULL", age[0])
		}
		// A hook storing the zero value in a form field nobody answered
		// cannot be told from no change: the fields stay unset, as the
		// package doc says (pointer fields or an initial tag record it).
		if later[0] != nil || agree[0] != nil {
			t.Errorf("unanswered form fields a hook set to 0/false are stored as later=%v agree=%v",
				later[0], agree[0])
		}
	})
}

// AppAfterThisPage over a wait page releases the members waiting there.

type jxSub struct {
	otree.BaseSubsession[jxSub, jxGroup, jxPlayer]
}
type jxGroup struct {
	otree.BaseGroup[jxSub, jxGroup, jxPlayer]
}
type jxPlayer struct {
	otree.BasePlayer[jxSub, jxGroup, jxPlayer]
	X int
}
type jxFirst struct{ otree.Page }

func (jxFirst) FormFields() []string { return []string{"X"} }
func (jxFirst) AppAfterThisPage(p *jxPlayer, up []string) string {
	if p.X == 2 {
		return up[0]
	}
	return ""
}

type jxWait struct{ otree.WaitPage }
type jxEnd struct{ otree.Page }

var jxApp = &otree.App[jxSub, jxGroup, jxPlayer]{
	Name: "jump1", PlayersPerGroup: 2, Pages: []otree.AnyPage{jxFirst{}, jxWait{}, jxEnd{}},
}
var jxApp2 = &otree.App[jxSub, jxGroup, jxPlayer]{
	Name: "jump2", Pages: []otree.AnyPage{jxEnd{}},
}
var jxProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "jump", Apps: []otree.Application{jxApp, jxApp2}, NumDemoParticipants: 2},
}}

func TestJumpOverWaitPageReleases(t *testing.T) {
	forEachDB(t, jxProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "jump", 2)
		c := newClient(t, s.URL)
		var paths []string
		for _, code := range codes {
			p, _ := c.follow("/InitializeParticipant/" + code)
			paths = append(paths, p)
		}
		c.post(paths[0], url.Values{"x": {"1"}})
		r := c.post(paths[1], url.Values{"x": {"2"}})
		if !strings.Contains(r.location, "/jump2/") {
			t.Errorf("player 2 went to %s, want the next app", r.location)
		}
		p1, _ := c.follow(paths[0])
		if strings.Contains(p1, "jxWait") {
			t.Errorf("player 1 is stuck on %s after player 2 left the app", p1)
		}
	})
}

// Participant labels longer than the column are refused.

func TestLongLabelRejected(t *testing.T) {
	forEachDB(t, inProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "inputs", 1)
		c := newClient(t, s.URL)
		r := c.get("/InitializeParticipant/" + codes[0] + "?participant_label=" + strings.Repeat("x", 101))
		if r.status >= 500 {
			t.Errorf("a 101-character label: status %d", r.status)
		}
	})
}

// Concurrent hooks setting the same player's payoff leave the participant's
// payoff equal to the players'.

type pySub struct {
	otree.BaseSubsession[pySub, pyGroup, pyPlayer]
}
type pyGroup struct {
	otree.BaseGroup[pySub, pyGroup, pyPlayer]
}
type pyPlayer struct {
	otree.BasePlayer[pySub, pyGroup, pyPlayer]
	X int
}
type pyFirst struct{ otree.Page }

func (pyFirst) FormFields() []string { return []string{"X"} }

var pyArrived = make(chan struct{}, 8)

func (pyFirst) BeforeNextPage(p *pyPlayer, _ bool) {
	// Player 1's payoff is set by whoever submits (both do, at once).
	p.Group().PlayerByID(1).Payoff = otree.Cu(10)
	// Let both members' requests overlap (on SQLite the writer serializes
	// them, so give up after a moment).
	pyArrived <- struct{}{}
	deadline := time.After(500 * time.Millisecond)
	for len(pyArrived) < 2 {
		select {
		case <-deadline:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

type pyEnd struct{ otree.Page }

var pyApp = &otree.App[pySub, pyGroup, pyPlayer]{
	Name: "payoffs", PlayersPerGroup: 2, Pages: []otree.AnyPage{pyFirst{}, pyEnd{}},
}
var pyProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "payoffs", Apps: []otree.Application{pyApp}, NumDemoParticipants: 2},
}}

func TestConcurrentPayoffChanges(t *testing.T) {
	forEachDB(t, pyProject, func(t *testing.T, s *otreetest.Server) {
		pyArrived = make(chan struct{}, 8)
		code, codes := session(t, s.URL, "payoffs", 2)
		c := newClient(t, s.URL)
		var paths []string
		for _, pc := range codes {
			p, _ := c.follow("/InitializeParticipant/" + pc)
			paths = append(paths, p)
		}
		var wg sync.WaitGroup
		for i := range paths {
			wg.Go(func() { c.post(paths[i], url.Values{"x": {"1"}}) })
		}
		wg.Wait()
		for _, p := range getSession(t, s.URL, code).Participants {
			want := 0.0
			if p.IDInSession == 1 {
				want = 10
			}
			if p.Points != want {
				t.Errorf("participant %d: payoff %v, but the player's payoff is %v", p.IDInSession, p.Points, want)
			}
		}
	})
}

// A Vars value JSON cannot store, set in VarsForTemplate on a GET, fails
// the request cleanly.

type naSub struct {
	otree.BaseSubsession[naSub, naGroup, naPlayer]
}
type naGroup struct {
	otree.BaseGroup[naSub, naGroup, naPlayer]
}
type naPlayer struct {
	otree.BasePlayer[naSub, naGroup, naPlayer]
}
type naFirst struct{ otree.Page }

func (naFirst) VarsForTemplate(p *naPlayer) otree.Vars {
	zero := 0.0
	p.Participant().Vars["ratio"] = zero / zero
	return nil
}

var naApp = &otree.App[naSub, naGroup, naPlayer]{
	Name: "nanvars", Pages: []otree.AnyPage{naFirst{}},
}
var naProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "nanvars", Apps: []otree.Application{naApp}, NumDemoParticipants: 1},
}}

func TestUnstorableVarsOnGet(t *testing.T) {
	s := otreetest.NewServer(t, naProject, &otree.ServerOptions{Logger: quietLogger()})
	_, codes := session(t, s.URL, "nanvars", 1)
	c := newClient(t, s.URL)
	r := c.get("/InitializeParticipant/" + codes[0])
	resp, err := http.Get(s.URL + r.location)
	if err != nil {
		t.Fatalf("GET %s: %v (the handler panicked instead of answering 500 naming the hook)", r.location, err)
	}
	resp.Body.Close()
}

// The participant's payoff includes a player's payoff set earlier in the
// same request.

type ppSub struct {
	otree.BaseSubsession[ppSub, ppGroup, ppPlayer]
}
type ppGroup struct {
	otree.BaseGroup[ppSub, ppGroup, ppPlayer]
}
type ppPlayer struct {
	otree.BasePlayer[ppSub, ppGroup, ppPlayer]
}
type ppFirst struct{ otree.Page }

var ppSeen = make(chan string, 4)

func (ppFirst) BeforeNextPage(p *ppPlayer, _ bool) {
	p.Payoff = otree.Cu(10)
	ppSeen <- p.Participant().Payoff.String() + " / " + p.Participant().PayoffPlusParticipationFee().String()
}

type ppEnd struct{ otree.Page }

var ppApp = &otree.App[ppSub, ppGroup, ppPlayer]{
	Name: "ppay", Pages: []otree.AnyPage{ppFirst{}, ppEnd{}},
}
var ppProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "ppay", Apps: []otree.Application{ppApp}, NumDemoParticipants: 1},
}}

func TestParticipantPayoffInRequest(t *testing.T) {
	s := otreetest.NewServer(t, ppProject, &otree.ServerOptions{Logger: quietLogger()})
	_, codes := session(t, s.URL, "ppay", 1)
	c := newClient(t, s.URL)
	p, _ := c.follow("/InitializeParticipant/" + codes[0])
	c.post(p, url.Values{})
	got := <-ppSeen
	if !strings.HasPrefix(got, "10 points") {
		t.Errorf("after p.Payoff = 10, the participant's payoff reads %s in the same hook", got)
	}
}

func TestRESTBadParams(t *testing.T) {
	forEachDB(t, inProject, func(t *testing.T, s *otreetest.Server) {
		const start = `{"session_config_name": "inputs", "num_participants": 1, `
		for _, rest := range []string{
			`"modified_session_config_fields": {"participation_fee": "NaN"}}`,
			`"modified_session_config_fields": {"rounds": 1e300}}`,
			`"modified_session_config_fields": {"rounds": 9223372036854775807}}`,
			`"modified_session_config_fields": {"rounds": 2.5}}`,
			`"modified_session_config_fields": {"greeting": "a\u0000b"}}`,
			`"label": "a\u0000b"}`,
			`"label": "` + strings.Repeat("l", 301) + `"}`,
		} {
			resp, err := http.Post(s.URL+"/api/sessions", "application/json", strings.NewReader(start+rest))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%.90s: status %d, want 400", rest, resp.StatusCode)
			}
		}
		var n int
		openDB(t, s).Raw(`SELECT count(*) FROM otree_session`).Scan(&n)
		if n != 0 {
			t.Errorf("%d sessions stored, want none", n)
		}
	})
}

// Regrouping from a hook on the read path runs in a transaction: a request
// that then fails leaves no regrouping behind.

type rgSub struct {
	otree.BaseSubsession[rgSub, rgGroup, rgPlayer]
}
type rgGroup struct {
	otree.BaseGroup[rgSub, rgGroup, rgPlayer]
}
type rgPlayer struct {
	otree.BasePlayer[rgSub, rgGroup, rgPlayer]
}
type rgFirst struct{ otree.Page }

func (rgFirst) VarsForTemplate(p *rgPlayer) otree.Vars {
	if err := p.Subsession().SetGroupMatrix([][]int{{1}, {2}, {3}, {4}}); err != nil {
		panic(err)
	}
	panic("the hook fails after regrouping")
}

var rgApp = &otree.App[rgSub, rgGroup, rgPlayer]{
	Name: "regroup", PlayersPerGroup: 2, Pages: []otree.AnyPage{rgFirst{}},
}
var rgProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "regroup", Apps: []otree.Application{rgApp}, NumDemoParticipants: 4},
}}

func TestRegroupOnReadPath(t *testing.T) {
	forEachDB(t, rgProject, func(t *testing.T, s *otreetest.Server) {
		_, codes := session(t, s.URL, "regroup", 4)
		c := newClient(t, s.URL)
		r := c.get("/InitializeParticipant/" + codes[0])
		if g := c.get(r.location); g.status != 500 {
			t.Fatalf("GET: status %d, want 500", g.status)
		}
		var groups int
		openDB(t, s).Raw(`SELECT count(*) FROM regroup_group`).Scan(&groups)
		if groups != 2 {
			t.Errorf("a failed GET left %d groups (was 2): its writes were not in a transaction", groups)
		}
	})
}

// A huge Currency answer is refused, so that it cannot overflow the
// group's sums and block it.

type ovSub struct {
	otree.BaseSubsession[ovSub, ovGroup, ovPlayer]
}
type ovGroup struct {
	otree.BaseGroup[ovSub, ovGroup, ovPlayer]
	Total otree.Currency
}
type ovPlayer struct {
	otree.BasePlayer[ovSub, ovGroup, ovPlayer]
	Guess otree.Currency
}
type ovFirst struct{ otree.Page }

func (ovFirst) FormFields() []string { return []string{"Guess"} }

type ovWait struct{ otree.WaitPage }

func (ovWait) AfterAllPlayersArrive(g *ovGroup) {
	g.Total = otree.Sum(g.Players(), func(p *ovPlayer) otree.Currency { return p.Guess })
}

type ovEnd struct{ otree.Page }

var ovApp = &otree.App[ovSub, ovGroup, ovPlayer]{
	Name: "overflow", PlayersPerGroup: 2, Pages: []otree.AnyPage{ovFirst{}, ovWait{}, ovEnd{}},
}
var ovProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "overflow", Apps: []otree.Application{ovApp}, NumDemoParticipants: 2},
}}

func TestHugeCurrencyRejected(t *testing.T) {
	s := otreetest.NewServer(t, ovProject, &otree.ServerOptions{Logger: quietLogger()})
	_, codes := session(t, s.URL, "overflow", 2)
	c := newClient(t, s.URL)
	var paths []string
	for _, code := range codes {
		p, _ := c.follow("/InitializeParticipant/" + code)
		paths = append(paths, p)
	}
	r := c.post(paths[0], url.Values{"guess": {"9223372036854"}})
	if r.status != http.StatusOK || r.header.Get("X-Otree-Error-Fields") != "guess" {
		t.Fatalf("huge guess: status %d, want the field error", r.status)
	}
	c.post(paths[0], url.Values{"guess": {"5"}})
	if r := c.post(paths[1], url.Values{"guess": {"6"}}); r.status != http.StatusFound {
		t.Errorf("the other member's answer: status %d, want 302", r.status)
	}
}

// Group commit: failing requests in a batch do not disturb the others.

type gcSub struct {
	otree.BaseSubsession[gcSub, gcGroup, gcPlayer]
}
type gcGroup struct {
	otree.BaseGroup[gcSub, gcGroup, gcPlayer]
}
type gcPlayer struct {
	otree.BasePlayer[gcSub, gcGroup, gcPlayer]
	X int
	Y int
}
type gcFirst struct{ otree.Page }

func (gcFirst) FormFields() []string { return []string{"X"} }
func (gcFirst) BeforeNextPage(p *gcPlayer, _ bool) {
	p.Y = 7
	p.Participant().Vars["touched"] = true
	time.Sleep(2 * time.Millisecond)
	if p.X%2 == 1 {
		panic("odd")
	}
}

type gcEnd struct{ otree.Page }

var gcApp = &otree.App[gcSub, gcGroup, gcPlayer]{
	Name: "gcommit", Pages: []otree.AnyPage{gcFirst{}, gcEnd{}},
}
var gcProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "gcommit", Apps: []otree.Application{gcApp}, NumDemoParticipants: 1},
}}

func TestGroupCommitIsolation(t *testing.T) {
	s := otreetest.NewServer(t, gcProject, &otree.ServerOptions{Logger: quietLogger()})
	const n = 60
	_, codes := session(t, s.URL, "gcommit", n)
	c := newClient(t, s.URL)
	var paths []string
	for _, code := range codes {
		p, _ := c.follow("/InitializeParticipant/" + code)
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range paths {
		wg.Go(func() { status[i] = c.post(paths[i], url.Values{"x": {itoa(i)}}).status })
	}
	wg.Wait()
	type row struct {
		X, Y      *int
		PageIndex int
		Vars      string
	}
	for i, code := range codes {
		var r row
		openDB(t, s).Raw(`SELECT pl.x, pl.y, p.page_index, p.vars FROM gcommit_player pl
			JOIN otree_participant p ON p.id = pl.participant_id WHERE p.code = ?`, code).Scan(&r)
		ok := i%2 == 0
		if ok != (status[i] == 302) || ok != (r.PageIndex == 2) || ok != (r.X != nil) ||
			ok != (r.Y != nil && *r.Y == 7) || ok != strings.Contains(r.Vars, "touched") {
			t.Errorf("participant %d: status %d, page %d, x %v, y %v, vars %s", i, status[i], r.PageIndex, r.X, r.Y, r.Vars)
		}
	}
}
