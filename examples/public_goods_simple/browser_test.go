package publicgoodssimple_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gotree/gotree/examples/payment_info"
	"github.com/gotree/gotree/examples/public_goods_simple"
	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

var project = &otree.Project{SessionConfigs: []otree.SessionConfig{{
	Name:                "public_goods_simple",
	Apps:                []otree.Application{publicgoodssimple.App, paymentinfo.App},
	NumDemoParticipants: 3,
}, {
	Name:                "timed",
	Apps:                []otree.Application{timedApp},
	NumDemoParticipants: 1,
}}}

// A one-page app with a timed form, whose BeforeNextPage pays what was
// typed only if the page timed out.
type timedSub struct {
	otree.BaseSubsession[timedSub, timedGroup, timedPlayer]
}
type timedGroup struct {
	otree.BaseGroup[timedSub, timedGroup, timedPlayer]
}
type timedPlayer struct {
	otree.BasePlayer[timedSub, timedGroup, timedPlayer]
	Answer otree.Currency `label:"Your answer"`
}
type timedPage struct{ otree.Page }

func (timedPage) FormFields() []string               { return []string{"Answer"} }
func (timedPage) Timeout(*timedPlayer) time.Duration { return 5 * time.Second }
func (timedPage) BeforeNextPage(p *timedPlayer, timedOut bool) {
	if timedOut {
		p.Payoff = p.Answer
	}
}

type timedEnd struct{ otree.Page }

var timedApp = &otree.App[timedSub, timedGroup, timedPlayer]{
	Name: "timed", Pages: []otree.AnyPage{timedPage{}, timedEnd{}},
}

// TestBrowser plays the game in three tabs of a headless Chromium, as three
// participants would: the page script, not the test, must bring the first
// two from the wait page to the results.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		otreetest.Unavailable(t, "Chromium", "PATH", err, "apt-get install -y chromium")
	}
	srv := otreetest.NewServer(t, project, &otree.ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	gate := &socketGate{next: srv.Handler()}
	hs := httptest.NewServer(gate)
	t.Cleanup(hs.Close)
	browser := startBrowser(t, chromium)

	// The wait socket's push reloads the waiting pages once, and nothing
	// reloads them before it: the page script does not poll.
	t.Run("released by the wait socket", func(t *testing.T) {
		tabs := openTabs(t, browser, hs.URL)
		tabs[0].contribute(t, "10")
		tabs[1].contribute(t, "20")
		for _, tab := range tabs[:2] {
			tab.expectWaitPage(t)
			tab.waitForWaitSocket(t, 1)
		}
		time.Sleep(1500 * time.Millisecond)
		for _, tab := range tabs[:2] {
			if loads := tab.loads(t); len(loads) != 2 {
				t.Fatalf("%s: pages loaded while waiting: %v, want only the contribution and wait pages",
					tab.name, loads)
			}
		}

		submitted := time.Now()
		tabs[2].contribute(t, "30")
		for i, want := range []string{"126 points", "116 points", "106 points"} {
			tabs[i].expectPayoff(t, want)
		}
		for _, tab := range tabs[:2] {
			ready := tab.releasedBySocket(t)
			after := time.UnixMilli(ready.T).Sub(submitted)
			t.Logf("%s: ready pushed %v after the third participant clicked Next", tab.name, after)
			if after > 2*time.Second {
				t.Errorf("%s: ready pushed %v after the third submission, want well under 2s", tab.name, after)
			}
		}
	})

	// A participant whose wait socket drops and cannot reconnect misses the
	// push; when the socket comes back, the server tells it at once that
	// the group is complete.
	t.Run("reconnects after a dropped socket", func(t *testing.T) {
		tabs := openTabs(t, browser, hs.URL)
		tabs[0].contribute(t, "10")
		tabs[1].contribute(t, "20")
		for _, tab := range tabs[:2] {
			tab.expectWaitPage(t)
			tab.waitForWaitSocket(t, 1)
		}
		gate.refuse(tabs[0].code, true)
		if n := gate.drop(tabs[0].code); n != 1 {
			t.Fatalf("dropped %d wait sockets of %s, want 1", n, tabs[0].name)
		}
		tabs[0].waitFor(t, "the wait socket to close", func(log []logEntry) bool {
			return count(log, "close", "/wait_page") >= 1
		})

		tabs[2].contribute(t, "30")
		tabs[2].expectPayoff(t, "106 points")
		tabs[1].expectPayoff(t, "116 points")
		time.Sleep(time.Second)
		if loads := tabs[0].loads(t); len(loads) != 2 {
			t.Fatalf("%s: pages loaded while its socket was down: %v, want it still waiting", tabs[0].name, loads)
		}

		gate.refuse(tabs[0].code, false)
		tabs[0].expectPayoff(t, "126 points")
		tabs[0].releasedBySocket(t)
		if opens := count(tabs[0].log(t), "open", "/wait_page"); opens < 2 {
			t.Errorf("%s: the wait socket opened %d times, want a reconnection", tabs[0].name, opens)
		}
	})

	// The page script submits what was typed on a timed page before the
	// server's own timeout, which would submit an empty form, fires. The
	// page's 5 s leave Chromium time to load it and type.
	t.Run("timed page keeps what was typed", func(t *testing.T) {
		code, codes := createSession(t, hs.URL, "timed", 1)
		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/InitializeParticipant/"+codes[0]),
			chromedp.WaitVisible(chromedp.CSS("#id_answer")),
			chromedp.SendKeys(chromedp.CSS("#id_answer"), "42"))
		if err != nil {
			t.Fatalf("open the timed page and type: %v", err)
		}
		wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
		defer cancelWait()
		if err := chromedp.Do(wait, chromedp.WaitNotPresent(chromedp.CSS("#id_answer"))); err != nil {
			t.Fatalf("the timed page did not move on: %v", err)
		}
		if got := payoffs(t, hs.URL, code); len(got) != 1 || got[0] != 42 {
			t.Errorf("payoffs %v, want [42]: the typed answer was lost to the server's timeout", got)
		}
	})
}

// startBrowser starts a headless Chromium with a fresh profile, closed when
// the test ends.
func startBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// recorder is run in every page before the page's own scripts. It logs to
// the tab's sessionStorage, which survives reloads, each page load with its
// navigation type and each socket's opening, messages and closing.
const recorder = `(function () {
  var key = "gotree-test-log";
  function log(e) {
    e.t = Date.now();
    try {
      var l = JSON.parse(sessionStorage.getItem(key) || "[]");
      l.push(e);
      sessionStorage.setItem(key, JSON.stringify(l));
    } catch (err) {}
  }
  var nav = performance.getEntriesByType("navigation")[0];
  log({ev: "load", type: nav ? nav.type : "", path: location.pathname});
  var Real = window.WebSocket;
  function Recorded(url, protocols) {
    var ws = protocols === undefined ? new Real(url) : new Real(url, protocols);
    var path = new URL(url, location.href).pathname;
    ws.addEventListener("open", function () { log({ev: "open", path: path}); });
    ws.addEventListener("message", function (m) { log({ev: "message", path: path, data: m.data}); });
    ws.addEventListener("close", function () { log({ev: "close", path: path}); });
    return ws;
  }
  Recorded.prototype = Real.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Recorded[k] = Real[k]; });
  window.WebSocket = Recorded;
})();`

// A logEntry is one line of the recorder's log.
type logEntry struct {
	Ev   string `json:"ev"`   // "load", "open", "message" or "close"
	Type string `json:"type"` // a load's navigation type: "navigate", "reload", …
	Path string `json:"path"` // the page's or socket's path
	Data string `json:"data"` // a message's text
	T    int64  `json:"t"`    // Unix milliseconds
}

func count(log []logEntry, ev, path string) int {
	n := 0
	for _, e := range log {
		if e.Ev == ev && e.Path == path {
			n++
		}
	}
	return n
}

// A tab is one participant's browser tab.
type tab struct {
	name string
	code string
	ctx  context.Context
}

// openTabs creates a session of three and opens each participant's start
// link in a tab of its own.
func openTabs(t *testing.T, browser context.Context, base string) []*tab {
	t.Helper()
	_, codes := createSession(t, base, "public_goods_simple", 3)
	var tabs []*tab
	for i, code := range codes {
		ctx, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		tb := &tab{name: fmt.Sprintf("P%d", i+1), code: code, ctx: ctx}
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: recorder})
		if err != nil {
			t.Fatalf("%s: add the recorder: %v", tb.name, err)
		}
		err = chromedp.Do(ctx, chromedp.Navigate(base+"/InitializeParticipant/"+code),
			chromedp.WaitVisible(chromedp.CSS("#id_contribution")))
		if err != nil {
			t.Fatalf("%s: open the start link: %v", tb.name, err)
		}
		tabs = append(tabs, tb)
	}
	return tabs
}

// createSession creates a session of n participants through the REST API
// and returns its code and its participants' codes.
func createSession(t *testing.T, base, config string, n int) (string, []string) {
	t.Helper()
	resp, err := http.Post(base+"/api/sessions", "application/json",
		strings.NewReader(fmt.Sprintf(`{"session_config_name": %q, "num_participants": %d}`, config, n)))
	if err != nil {
		t.Fatalf("POST /api/sessions: %v", err)
	}
	var created struct{ Code string }
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/sessions: status %d, %v", resp.StatusCode, err)
	}
	var codes []string
	for _, p := range getSession(t, base, created.Code) {
		codes = append(codes, p.Code)
	}
	if len(codes) != n {
		t.Fatalf("session %s has %d participants, want %d", created.Code, len(codes), n)
	}
	return created.Code, codes
}

type apiParticipant struct {
	Code        string  `json:"code"`
	IDInSession int     `json:"id_in_session"`
	Payoff      float64 `json:"payoff"`
}

// getSession returns a session's participants, read through the REST API,
// in the order of their IDInSession.
func getSession(t *testing.T, base, code string) []apiParticipant {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions/" + code)
	if err != nil {
		t.Fatalf("GET /api/sessions/%s: %v", code, err)
	}
	defer resp.Body.Close()
	var session struct {
		Participants []apiParticipant `json:"participants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&session); err != nil {
		t.Fatalf("GET /api/sessions/%s: %v", code, err)
	}
	ps := session.Participants
	for i, p := range ps {
		if p.IDInSession != i+1 {
			t.Fatalf("session %s: participant %d of the list has id %d", code, i+1, p.IDInSession)
		}
	}
	return ps
}

// payoffs returns the payoffs of a session's participants.
func payoffs(t *testing.T, base, code string) []float64 {
	t.Helper()
	var out []float64
	for _, p := range getSession(t, base, code) {
		out = append(out, p.Payoff)
	}
	return out
}

// contribute types the amount into the contribution field and clicks Next.
func (tb *tab) contribute(t *testing.T, amount string) {
	t.Helper()
	err := chromedp.Do(tb.ctx,
		chromedp.SendKeys(chromedp.CSS("#id_contribution"), amount),
		chromedp.Click(chromedp.CSS("button.otree-btn-next")))
	if err != nil {
		t.Fatalf("%s: contribute %s: %v", tb.name, amount, err)
	}
}

// expectWaitPage waits for the wait page.
func (tb *tab) expectWaitPage(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".otree-wait-page"))); err != nil {
		t.Fatalf("%s: wait for the wait page: %v (log %v)", tb.name, err, tb.log(t))
	}
}

// expectPayoff waits for the results page and checks the payoff shown.
func (tb *tab) expectPayoff(t *testing.T, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#payoff"))); err != nil {
		t.Fatalf("%s: wait for the results page: %v (log %v)", tb.name, err, tb.log(t))
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("#payoff")))
	if err != nil {
		t.Fatalf("%s: read #payoff: %v", tb.name, err)
	}
	if strings.TrimSpace(got) != want {
		t.Errorf("%s: #payoff = %q, want %q", tb.name, got, want)
	}
}

// log returns the recorder's log of the tab.
func (tb *tab) log(t *testing.T) []logEntry {
	t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("gotree-test-log") || "[]"`))
	if err != nil {
		t.Fatalf("%s: read the log: %v", tb.name, err)
	}
	var log []logEntry
	if err := json.Unmarshal([]byte(s), &log); err != nil {
		t.Fatalf("%s: decode the log %s: %v", tb.name, s, err)
	}
	return log
}

// loads returns the page loads of the tab's log.
func (tb *tab) loads(t *testing.T) []logEntry {
	t.Helper()
	var loads []logEntry
	for _, e := range tb.log(t) {
		if e.Ev == "load" {
			loads = append(loads, e)
		}
	}
	return loads
}

// waitFor polls the tab's log until cond holds.
func (tb *tab) waitFor(t *testing.T, what string, cond func([]logEntry) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := tb.log(t)
		if cond(log) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: waited 10s for %s; log %v", tb.name, what, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForWaitSocket waits until the tab is on the wait page with n wait
// sockets opened so far.
func (tb *tab) waitForWaitSocket(t *testing.T, n int) {
	t.Helper()
	tb.waitFor(t, "the wait page's socket", func(log []logEntry) bool {
		return count(log, "open", "/wait_page") >= n
	})
}

// releasedBySocket checks the tab's history: loaded once by the start link
// and once by the form, then reloaded exactly once, right after the wait
// socket said ready. It returns the ready message.
func (tb *tab) releasedBySocket(t *testing.T) logEntry {
	t.Helper()
	log := tb.log(t)
	var loads []logEntry
	reload := -1
	for i, e := range log {
		if e.Ev != "load" {
			continue
		}
		loads = append(loads, e)
		if e.Type == "reload" {
			reload = i
		}
	}
	want := []string{"navigate /p/" + tb.code + "/public_goods_simple/Contribute/1",
		"navigate /p/" + tb.code + "/public_goods_simple/ResultsWaitPage/2",
		"reload /p/" + tb.code + "/public_goods_simple/Results/3"}
	var got []string
	for _, e := range loads {
		got = append(got, e.Type+" "+e.Path)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: page loads\n%s\nwant\n%s", tb.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var last logEntry
	for _, e := range log[:reload] {
		if e.Ev == "message" {
			last = e
		}
	}
	if last.Path != "/wait_page" || !strings.Contains(last.Data, `"ready"`) {
		t.Fatalf("%s: the last message before the reload was %+v, want the wait socket's ready", tb.name, last)
	}
	return last
}

// A socketGate passes requests to the server and lets a test drop a
// participant's open wait sockets and refuse new ones, as a failing network
// would.
type socketGate struct {
	next http.Handler

	// mu guards refused and conns.
	mu      sync.Mutex
	refused map[string]bool       // by participant code
	conns   map[string][]net.Conn // open wait sockets by participant code
}

func (g *socketGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wait_page" {
		g.next.ServeHTTP(w, r)
		return
	}
	code := r.URL.Query().Get("participant_code")
	g.mu.Lock()
	refused := g.refused[code]
	g.mu.Unlock()
	if refused {
		http.Error(w, "refused by the test", http.StatusServiceUnavailable)
		return
	}
	g.next.ServeHTTP(&hijackRecorder{ResponseWriter: w, gate: g, code: code}, r)
}

func (g *socketGate) refuse(code string, on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refused == nil {
		g.refused = map[string]bool{}
	}
	g.refused[code] = on
}

// drop closes the participant's wait sockets and returns how many it closed.
func (g *socketGate) drop(code string) int {
	g.mu.Lock()
	conns := g.conns[code]
	delete(g.conns, code)
	g.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

// A hijackRecorder records the connection a WebSocket takes over.
type hijackRecorder struct {
	http.ResponseWriter
	gate *socketGate
	code string
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.gate.mu.Lock()
		if h.gate.conns == nil {
			h.gate.conns = map[string][]net.Conn{}
		}
		h.gate.conns[h.code] = append(h.gate.conns[h.code], c)
		h.gate.mu.Unlock()
	}
	return c, rw, err
}

func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
