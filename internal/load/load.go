package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a [Run]. BaseURL, SessionConfig and Participants are
// required; the other fields have working zero values.
type Options struct {
	// BaseURL is the server's address, such as "http://127.0.0.1:8000".
	BaseURL string

	// SessionConfig names the session config to create sessions of.
	SessionConfig string

	// Participants is the number of participants played at once.
	Participants int

	// SessionSize is the number of participants per session; 0 puts them
	// all in one session. The last session takes what is left over.
	SessionSize int

	// Ramp spreads the participants' starts evenly over this long; 0 starts
	// them all at once.
	Ramp time.Duration

	// RestKey is sent as the otree-rest-key header of the REST calls, for
	// servers whose OTREE_AUTH_LEVEL is DEMO or STUDY.
	RestKey string

	// Seed seeds the values participants enter: participant i draws from
	// a source seeded with Seed and i, so a run is repeatable.
	Seed uint64

	// RequestTimeout bounds one HTTP request; 30 s if zero.
	RequestTimeout time.Duration

	// WaitTimeout bounds the time on one wait page; 60 s if zero.
	WaitTimeout time.Duration

	// Transport sends the requests and opens the sockets. If nil, Run uses
	// a transport that keeps a connection per participant alive, and
	// closes its idle connections when it returns.
	Transport http.RoundTripper
}

// maxPages bounds the pages one participant goes through, so a server
// that keeps redirecting in a circle cannot keep a run going.
const maxPages = 1000

// Run creates the sessions, plays all their participants at once and
// reports. It returns an error only when the run could not take place (the
// options are wrong, the sessions could not be created) or ctx ended;
// what went wrong for participants is in the report, which Run returns
// with ctx's error.
func Run(ctx context.Context, opts Options) (*Report, error) {
	o := opts
	base, err := o.check()
	if err != nil {
		return nil, err
	}
	rt := o.Transport
	if rt == nil {
		t := newTransport(o.Participants)
		defer t.CloseIdleConnections()
		rt = t
	}
	client := &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rep := &Report{SessionConfig: o.SessionConfig, Participants: o.Participants, Status: map[int]int{}}

	// Set up the sessions.
	start := time.Now()
	codes, err := createSessions(ctx, client, base, &o, rep)
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(start)

	// Play every participant at once.
	parts := make([]*participant, len(codes))
	for i, code := range codes {
		parts[i] = &participant{
			code: code, client: client, base: base, opts: &o,
			rng: rand.New(rand.NewPCG(o.Seed, uint64(i))), status: map[int]int{},
		}
	}
	start = time.Now()
	var wg sync.WaitGroup
	for i, p := range parts {
		delay := o.Ramp * time.Duration(i) / time.Duration(len(parts))
		wg.Go(func() {
			if sleep(ctx, delay) {
				p.play(ctx)
			}
		})
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	rep.add(parts)
	return rep, ctx.Err()
}

// sleep waits for d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// check validates the options, fills in defaults and returns the parsed
// base URL.
func (o *Options) check() (*url.URL, error) {
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("load: base URL %q is not an http or https URL", o.BaseURL)
	}
	base = &url.URL{Scheme: base.Scheme, Host: base.Host}
	if o.SessionConfig == "" {
		return nil, errors.New("load: no session config given")
	}
	if o.Participants <= 0 {
		return nil, fmt.Errorf("load: %d participants; at least one is needed", o.Participants)
	}
	if o.SessionSize <= 0 || o.SessionSize > o.Participants {
		o.SessionSize = o.Participants
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 60 * time.Second
	}
	return base, nil
}

// newTransport returns a transport that keeps an idle connection for each
// of conns participants, so that none has to dial again between requests.
func newTransport(conns int) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// createSessions creates the sessions through the REST API and returns
// their participants' codes.
func createSessions(ctx context.Context, c *http.Client, base *url.URL, o *Options, rep *Report) ([]string, error) {
	var codes []string
	for left := o.Participants; left > 0; left -= o.SessionSize {
		n := min(left, o.SessionSize)
		var created struct {
			Code string `json:"code"`
		}
		body := map[string]any{"session_config_name": o.SessionConfig, "num_participants": n}
		if err := callAPI(ctx, c, base, o, http.MethodPost, "/api/sessions", body, &created); err != nil {
			return nil, fmt.Errorf("load: create a session of %s with %d participants: %w",
				o.SessionConfig, n, err)
		}
		var session struct {
			Participants []apiParticipant `json:"participants"`
		}
		err := callAPI(ctx, c, base, o, http.MethodGet, "/api/sessions/"+created.Code, nil, &session)
		if err != nil {
			return nil, fmt.Errorf("load: read session %s: %w", created.Code, err)
		}
		if len(session.Participants) != n {
			return nil, fmt.Errorf("load: session %s has %d participants, want %d",
				created.Code, len(session.Participants), n)
		}
		slices.SortFunc(session.Participants, func(a, b apiParticipant) int {
			return a.IDInSession - b.IDInSession
		})
		for _, p := range session.Participants {
			codes = append(codes, p.Code)
		}
		rep.Sessions = append(rep.Sessions, created.Code)
	}
	return codes, nil
}

// apiParticipant is a participant as GET /api/sessions/<code> lists it.
type apiParticipant struct {
	Code        string `json:"code"`
	IDInSession int    `json:"id_in_session"`
}

// callAPI makes a REST call with a JSON body (if in is not nil) and decodes
// the JSON answer into out.
func callAPI(ctx context.Context, c *http.Client, base *url.URL, o *Options, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base.JoinPath(path).String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if o.RestKey != "" {
		req.Header.Set("otree-rest-key", o.RestKey)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("status %d: %s", resp.StatusCode, e.Error)
		}
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	return nil
}

// add totals the participants' measurements into the report.
func (r *Report) add(parts []*participant) {
	var all, waits []time.Duration
	byRoute := map[string][]time.Duration{}
	for _, p := range parts {
		for _, s := range p.samples {
			all = append(all, s.d)
			byRoute[s.route] = append(byRoute[s.route], s.d)
		}
		for s, n := range p.status {
			r.Status[s] += n
		}
		waits = append(waits, p.waits...)
		if p.finished {
			r.Finished++
		}
		if p.err != nil {
			r.ErrorCount++
			if len(r.Errors) < MaxErrors {
				r.Errors = append(r.Errors, p.err)
			}
		}
	}
	r.Requests = len(all)
	if secs := r.Duration.Seconds(); secs > 0 {
		r.RequestsPerSecond = float64(r.Requests) / secs
	}
	r.Latency = summarise(all)
	r.WaitPages = len(waits)
	r.Wait = summarise(waits)
	for name, ds := range byRoute {
		r.Routes = append(r.Routes, Route{Name: name, Requests: len(ds), Latency: summarise(ds)})
	}
	slices.SortFunc(r.Routes, func(a, b Route) int { return strings.Compare(a.Name, b.Name) })
}
