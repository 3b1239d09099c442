package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// httpClient is shared by every participant. It follows no redirect by
// itself, so that each hop can be checked.
var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        1000,
		MaxIdleConnsPerHost: 1000,
		IdleConnTimeout:     30 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// A participant is one participant's browser, without JavaScript: the
// test plays the page script's part. Its methods return errors rather than
// fail the test, so that participants can run in goroutines.
type participant struct {
	code string
	id   int    // id_in_session
	base string // the web server this participant uses

	path   string // the page the browser shows
	status int    // of the last response
	body   string // of the page shown

	reconnects atomic.Int32 // sockets reopened after they closed
}

func newParticipant(code string, id int, base string) *participant {
	return &participant{code: code, id: id, base: base}
}

func (p *participant) String() string { return fmt.Sprintf("P%d (%s)", p.id, p.code) }

type response struct {
	status   int
	location string
	body     string
}

func (p *participant) do(method, path string, form url.Values) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s: %s %s: %w", p, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s: %s %s: read body: %w", p, method, path, err)
	}
	return response{resp.StatusCode, resp.Header.Get("Location"), string(b)}, nil
}

// get GETs path and follows redirects, as a browser does, then shows the
// final page.
func (p *participant) get(path string) error {
	for range 20 {
		r, err := p.do("GET", path, nil)
		if err != nil {
			return err
		}
		if r.status == http.StatusFound || r.status == http.StatusSeeOther {
			path = r.location
			continue
		}
		p.path, p.status, p.body = path, r.status, r.body
		if r.status != http.StatusOK {
			return fmt.Errorf("%s: GET %s: status %d: %s", p, path, r.status, brief(r.body))
		}
		return nil
	}
	return fmt.Errorf("%s: too many redirects from %s", p, path)
}

// start opens the participant's start link and follows it to the first page.
func (p *participant) start() error { return p.get("/InitializeParticipant/" + p.code) }

// submit posts form to the page shown and follows the redirect. The
// submission must be accepted.
func (p *participant) submit(form url.Values) error {
	if form == nil {
		form = url.Values{}
	}
	r, err := p.do("POST", p.path, form)
	if err != nil {
		return err
	}
	if r.status != http.StatusFound {
		return fmt.Errorf("%s: POST %s: status %d, want 302: %s", p, p.path, r.status, brief(r.body))
	}
	return p.get(r.location)
}

// on reports whether the page shown is the named page at the index.
func (p *participant) on(page string, index int) bool {
	return strings.HasSuffix(p.path, fmt.Sprintf("/%s/%d", page, index))
}

func brief(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

var configRE = regexp.MustCompile(`(?s)<script id="otree-config" type="application/json">(.*?)</script>`)

// pageConfig is the page script's configuration on the page shown.
type pageConfig struct {
	AutoAdvance string `json:"autoAdvance"`
	WaitPage    string `json:"waitPage"`
	Deadline    int64  `json:"deadline"` // Unix milliseconds
	IsForm      bool   `json:"isForm"`
}

func (p *participant) config() (pageConfig, error) {
	var c pageConfig
	m := configRE.FindStringSubmatch(p.body)
	if m == nil {
		return c, fmt.Errorf("%s: page %s has no otree-config", p, p.path)
	}
	if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
		return c, fmt.Errorf("%s: page %s: otree-config %s: %w", p, p.path, m[1], err)
	}
	return c, nil
}

// checkEvery is how often the page script asks an open socket for the
// state again.
const checkEvery = 20 * time.Second

// waitPage plays the wait page shown as the page script does: it opens the
// page's wait-page socket and its auto-advance socket from the page's
// configuration, reopens each whenever it closes (after 0.5 s, doubling up
// to 10 s), asks each for the state every 20 s while it is open, and once
// the wait-page socket says ready, or the auto-advance socket says the
// participant was moved on, loads the page again. It returns when the
// participant has left the wait page, or ctx ends.
func (p *participant) waitPage(ctx context.Context) error {
	cfg, err := p.config()
	if err != nil {
		return err
	}
	if cfg.WaitPage == "" {
		return fmt.Errorf("%s: page %s is not a wait page", p, p.path)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	said := make(chan struct{}, 2)
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { errc <- p.socket(sctx, cfg.WaitPage, isReady, said) })
	if cfg.AutoAdvance != "" {
		wg.Go(func() { errc <- p.socket(sctx, cfg.AutoAdvance, isAutoAdvanced, said) })
	}
	select {
	case <-said:
	case <-ctx.Done():
		cancel()
		return fmt.Errorf("%s: on %s, no socket said to move on: %w (last socket error: %v)",
			p, p.path, ctx.Err(), <-errc)
	}
	cancel()
	waitPath := p.path
	if err := p.get(waitPath); err != nil {
		return err
	}
	if p.path == waitPath {
		return fmt.Errorf("%s: a socket said to move on, but %s still shows the wait page", p, waitPath)
	}
	return nil
}

func isReady(msg []byte) bool {
	var m struct{ Status string }
	return json.Unmarshal(msg, &m) == nil && m.Status == "ready"
}

func isAutoAdvanced(msg []byte) bool {
	var m struct {
		AutoAdvanced bool `json:"auto_advanced"`
	}
	return json.Unmarshal(msg, &m) == nil && m.AutoAdvanced
}

// socket keeps a socket to path open, as the page script does, until a
// message satisfies done, when it signals said, or until ctx ends. It
// returns the last error that closed the socket.
func (p *participant) socket(ctx context.Context, path string, done func([]byte) bool,
	said chan<- struct{}) error {
	u := "ws" + strings.TrimPrefix(p.base, "http") + path
	delay := 500 * time.Millisecond
	var last error
	for opened := 0; ctx.Err() == nil; {
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: httpClient})
		if err == nil {
			if opened++; opened > 1 {
				p.reconnects.Add(1)
			}
			delay = 500 * time.Millisecond
			var ok bool
			ok, err = readUntil(ctx, c, done)
			c.CloseNow()
			if ok {
				said <- struct{}{}
				return nil
			}
		}
		last = err
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		delay = min(2*delay, 10*time.Second)
	}
	return last
}

// readUntil reads the socket until a message satisfies done, asking for the
// state every checkEvery. It returns false with the error that closed the
// socket.
func readUntil(ctx context.Context, c *websocket.Conn, done func([]byte) bool) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		tick := time.NewTicker(checkEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				c.Write(ctx, websocket.MessageText, []byte("{}"))
			}
		}
	}()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return false, err
		}
		if done(msg) {
			return true, nil
		}
	}
}

// A sessionInfo is GET /api/sessions/<code>.
type sessionInfo struct {
	Code         string `json:"code"`
	Participants []struct {
		Code        string  `json:"code"`
		IDInSession int     `json:"id_in_session"`
		Points      float64 `json:"payoff"`
		PageIndex   int     `json:"_index_in_pages"`
		Finished    bool    `json:"finished"`
	} `json:"participants"`
}

// createSession creates a session through the REST API, with params as
// modified_session_config_fields, and returns it as the API shows it.
func createSession(t testing.TB, base, config string, n int, params map[string]any) sessionInfo {
	t.Helper()
	req := map[string]any{"session_config_name": config, "num_participants": n}
	if params != nil {
		req["modified_session_config_fields"] = params
	}
	b, _ := json.Marshal(req)
	resp, err := httpClient.Post(base+"/api/sessions", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("POST /api/sessions: %v", err)
	}
	defer resp.Body.Close()
	var created struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Code == "" {
		t.Fatalf("POST /api/sessions %s: status %d, error %q, %v", b, resp.StatusCode, created.Error, err)
	}
	info, err := getSession(base, created.Code)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Participants) != n {
		t.Fatalf("session %s has %d participants, want %d", info.Code, len(info.Participants), n)
	}
	return info
}

func getSession(base, code string) (sessionInfo, error) {
	var info sessionInfo
	resp, err := httpClient.Get(base + "/api/sessions/" + code)
	if err != nil {
		return info, fmt.Errorf("GET /api/sessions/%s: %w", code, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return info, fmt.Errorf("GET /api/sessions/%s: status %d: %s", code, resp.StatusCode, brief(string(b)))
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return info, fmt.Errorf("GET /api/sessions/%s: %w", code, err)
	}
	return info, nil
}

// errs collects the errors of participants playing in goroutines.
type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, err)
}

// report fails the test with every error collected.
func (e *errs) report(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.list) > 0 {
		t.Fatalf("%d participant(s) failed:\n%v", len(e.list), errors.Join(e.list...))
	}
}
