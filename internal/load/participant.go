package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// A participant plays one participant's way through a session. Its fields
// are only touched by the goroutine that plays it until Run totals them.
type participant struct {
	code   string
	client *http.Client
	base   *url.URL
	opts   *Options
	rng    *rand.Rand

	samples  []sample
	status   map[int]int
	waits    []time.Duration
	finished bool
	err      *Error
}

// A sample is one request's latency and its route.
type sample struct {
	route string
	d     time.Duration
}

// A page is a page as served: where, its HTML and, on a wait page, the
// path of its wait socket.
type page struct {
	path       string
	html       string
	waitSocket string
}

func (p *participant) play(ctx context.Context) {
	pg, err := p.get(ctx, "/InitializeParticipant/"+p.code)
	for range maxPages {
		if err != nil {
			p.err = err
			return
		}
		if strings.HasPrefix(pg.path, "/OutOfRangeNotification/") {
			p.finished = true
			return
		}
		if pg.waitSocket != "" {
			pg, err = p.passWait(ctx, pg)
			continue
		}
		f := parseForm(pg.html)
		if !f.submittable() {
			p.finished = true
			return
		}
		pg, err = p.post(ctx, pg.path, f.values(p.rng))
	}
	p.err = &Error{Participant: p.code, Method: http.MethodGet, Path: pg.path,
		Msg: fmt.Sprintf("still not on the last page after %d pages", maxPages)}
}

// passWait waits on a wait page's socket until it says ready, then requests
// the page again, which must move the participant on.
func (p *participant) passWait(ctx context.Context, pg *page) (*page, *Error) {
	if err := p.wait(ctx, pg); err != nil {
		return nil, err
	}
	next, err := p.get(ctx, pg.path)
	if err == nil && next.path == pg.path {
		return nil, &Error{Participant: p.code, Method: http.MethodGet, Path: pg.path,
			Status: http.StatusOK, Msg: "the wait socket said ready, but the wait page was served again"}
	}
	return next, err
}

// wait opens the wait page's socket and reads until {"status": "ready"}.
func (p *participant) wait(ctx context.Context, pg *page) *Error {
	fail := func(format string, args ...any) *Error {
		return &Error{Participant: p.code, Method: "WS", Path: pg.waitSocket, Msg: fmt.Sprintf(format, args...)}
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.WaitTimeout)
	defer cancel()
	u, err := p.base.Parse(pg.waitSocket)
	if err != nil {
		return fail("bad wait socket path: %v", err)
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	start := time.Now()
	c, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: p.client})
	if err != nil {
		return fail("open the wait socket: %v", err)
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail("not released within %v", p.opts.WaitTimeout)
		}
		if err != nil {
			return fail("read the wait socket: %v", err)
		}
		var m struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(msg, &m) == nil && m.Status == "ready" {
			p.waits = append(p.waits, time.Since(start))
			return nil
		}
	}
}

// get requests a page and follows redirects to the page that is served.
func (p *participant) get(ctx context.Context, path string) (*page, *Error) {
	for range 10 {
		resp, body, err := p.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return p.newPage(path, body)
		case http.StatusFound, http.StatusSeeOther:
			if path, err = p.location(resp, path); err != nil {
				return nil, err
			}
			continue
		}
		return nil, p.statusError(resp, path, body)
	}
	return nil, &Error{Participant: p.code, Method: http.MethodGet, Path: path, Msg: "too many redirects"}
}

// post submits a form, which must be accepted with a redirect, and follows
// it.
func (p *participant) post(ctx context.Context, path string, form url.Values) (*page, *Error) {
	resp, body, err := p.do(ctx, http.MethodPost, path, form)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusFound, http.StatusSeeOther:
		to, err := p.location(resp, path)
		if err != nil {
			return nil, err
		}
		return p.get(ctx, to)
	case http.StatusOK:
		msg := "the page did not advance: the form was shown again"
		if fields := resp.Header.Get("X-Otree-Error-Fields"); fields != "" {
			msg += " with errors in " + fields
		}
		return nil, &Error{Participant: p.code, Method: http.MethodPost, Path: path,
			Status: resp.StatusCode, Msg: msg + " (sent " + form.Encode() + ")"}
	}
	return nil, p.statusError(resp, path, body)
}

// do sends one request, reads the whole answer and records its latency and
// status.
func (p *participant) do(ctx context.Context, method, path string, form url.Values) (*http.Response, []byte, *Error) {
	fail := func(err error) *Error {
		return &Error{Participant: p.code, Method: method, Path: path, Msg: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	u, err := p.base.Parse(path)
	if err != nil {
		return nil, nil, fail(err)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, fail(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, nil, fail(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, fail(fmt.Errorf("read the answer: %w", err))
	}
	p.samples = append(p.samples, sample{method + " " + routeOf(u.Path), time.Since(start)})
	p.status[resp.StatusCode]++
	return resp, b, nil
}

// location returns the path a redirect points to.
func (p *participant) location(resp *http.Response, from string) (string, *Error) {
	loc, err := resp.Location()
	if err != nil {
		return "", &Error{Participant: p.code, Method: resp.Request.Method, Path: from,
			Status: resp.StatusCode, Msg: "a redirect without a valid Location"}
	}
	return loc.RequestURI(), nil
}

func (p *participant) statusError(resp *http.Response, path string, body []byte) *Error {
	return &Error{Participant: p.code, Method: resp.Request.Method, Path: path,
		Status: resp.StatusCode, Msg: "unexpected status: " + excerpt(body)}
}

var (
	configRE = regexp.MustCompile(`(?is)<script\b[^>]*\bid="otree-config"[^>]*>(.*?)</script\s*>`)
	textRE   = regexp.MustCompile(`<[^>]*>|\s+`)
)

// newPage reads the page script's configuration from a served page, which
// says whether it is a wait page.
func (p *participant) newPage(path string, body []byte) (*page, *Error) {
	pg := &page{path: path, html: string(body)}
	var cfg struct {
		WaitPage string `json:"waitPage"`
	}
	if m := configRE.FindStringSubmatch(pg.html); m != nil {
		if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
			return nil, &Error{Participant: p.code, Method: http.MethodGet, Path: path,
				Status: http.StatusOK, Msg: "the page's otree-config is not JSON: " + err.Error()}
		}
	}
	pg.waitSocket = cfg.WaitPage
	if pg.waitSocket == "" && strings.Contains(pg.html, "otree-wait-page") {
		return nil, &Error{Participant: p.code, Method: http.MethodGet, Path: path,
			Status: http.StatusOK, Msg: "a wait page without a waitPage socket in its otree-config"}
	}
	return pg, nil
}

// routeOf names the route of a path: "app/Page" for a page,
// "InitializeParticipant" for /InitializeParticipant/<code>.
func routeOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 5 && parts[0] == "p":
		return parts[2] + "/" + parts[3]
	case len(parts) == 2:
		return parts[0]
	}
	return path
}

// excerpt returns the start of a page's text, for error messages.
func excerpt(body []byte) string {
	s := strings.TrimSpace(textRE.ReplaceAllString(string(body), " "))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
