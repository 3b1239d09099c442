package otree

import (
	"context"
	"errors"
	"fmt"
	htmlpkg "html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// BotReport is the outcome of playing a session config with its bots.
type BotReport struct {
	Config   string
	Sessions []BotSession
	Failures []*BotError
}

// A BotSession is one session the bots played: one per bot case.
type BotSession struct {
	Case         string
	Code         string
	Participants []BotParticipant
}

// A BotParticipant is a participant's result in a bot session.
type BotParticipant struct {
	IDInSession int
	Code        string
	Payoff      Currency // points over all apps and rounds
	Pay         Money    // payoff in money plus the participation fee
}

// Print writes the report as text: a line per participant, then the
// failures.
func (r *BotReport) Print(w io.Writer) {
	for _, s := range r.Sessions {
		label := r.Config
		if s.Case != "" {
			label += " case " + s.Case
		}
		fmt.Fprintf(w, "%s (session %s)\n", label, s.Code)
		for _, p := range s.Participants {
			fmt.Fprintf(w, "  P%-3d %s  payoff %-12s pay %s\n", p.IDInSession, p.Code, p.Payoff, p.Pay)
		}
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAIL %v\n", f)
	}
}

// errBotStop unwinds a bot that failed.
type errBotStop struct{}

// waitPageLimit bounds how long a bot waits for a group to be released.
const waitPageLimit = 60 * time.Second

// PlayBots plays a session config with its apps' bots, over HTTP and
// WebSockets against this server: one session per bot case, each created
// with o (its Config, Participants, Params and Seed).
func (s *Server) PlayBots(ctx context.Context, o SessionOptions) (*BotReport, error) {
	k := s.e.kinds[o.Config]
	if k == nil {
		return nil, &ConfigError{fmt.Sprintf("no session config named %q", o.Config)}
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	rep := &BotReport{Config: o.Config}
	cases := 1
	for _, a := range k.apps {
		cases = max(cases, len(a.botCases))
	}
	for ci := range cases {
		bs, failures, err := s.playCase(ctx, k, o, ci, ts.URL)
		if err != nil {
			return nil, err
		}
		rep.Sessions = append(rep.Sessions, bs)
		rep.Failures = append(rep.Failures, failures...)
	}
	return rep, nil
}

// caseName returns the case of app in the ci-th bot session.
func caseName(a *appSpec, ci int) string {
	if len(a.botCases) == 0 {
		return ""
	}
	return a.botCases[ci%len(a.botCases)]
}

func (s *Server) playCase(ctx context.Context, k *sessionKind, o SessionOptions, ci int,
	base string) (BotSession, []*BotError, error) {
	o.isBot = true
	sess, err := s.e.createSession(ctx, o)
	if err != nil {
		return BotSession{}, nil, err
	}
	label := ""
	for _, a := range k.apps {
		if c := caseName(a, ci); c != "" && label == "" {
			label = c
		}
	}
	parts, err := s.botParticipants(ctx, sess.ID)
	if err != nil {
		return BotSession{}, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var failures []*BotError
	var wg sync.WaitGroup
	for _, p := range parts {
		r := &botRun{
			e: s.e, ctx: ctx, base: base, k: k, ci: ci, config: k.Name,
			code: p.Code, id: p.IDInSession, client: botClient(),
			fail: func(be *BotError, stop bool) {
				mu.Lock()
				defer mu.Unlock()
				// Once a bot has stopped the session, what the others
				// report is a consequence, not a finding.
				if ctx.Err() != nil {
					return
				}
				failures = append(failures, be)
				if stop {
					cancel()
				}
			},
		}
		wg.Go(r.play)
	}
	wg.Wait()
	bs := BotSession{Case: label, Code: sess.Code}
	parts, err = s.botParticipants(context.WithoutCancel(ctx), sess.ID)
	if err != nil {
		return bs, nil, err
	}
	for _, p := range parts {
		money := p.Payoff.ToMoney(sess.RealWorldCurrencyPerPoint())
		bs.Participants = append(bs.Participants, BotParticipant{
			IDInSession: p.IDInSession, Code: p.Code, Payoff: p.Payoff,
			Pay: money.Add(sess.ParticipationFee()),
		})
	}
	return bs, failures, nil
}

func (s *Server) botParticipants(ctx context.Context, sessionID int64) ([]Participant, error) {
	var parts []Participant
	err := s.e.store.r.WithContext(ctx).Where("session_id = ?", sessionID).
		Order("id_in_session").Find(&parts).Error
	return parts, err
}

func botClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// A botRun is one participant's bot in a session.
type botRun struct {
	e      *engine
	ctx    context.Context
	client *http.Client
	base   string
	k      *sessionKind
	ci     int
	config string
	code   string
	id     int
	fail   func(be *BotError, stop bool)

	app        *appSpec
	round      int
	caseName   string
	path       string // the current page's path
	html       string
	lastHeader http.Header
	t          *txn // read context for Player and Participant
}

func (r *botRun) play() {
	defer r.closeTxn()
	defer func() {
		if x := recover(); x != nil {
			if _, ok := x.(errBotStop); !ok {
				r.report(fmt.Sprintf("panic: %v", x), true)
			}
		}
	}()
	r.get("/InitializeParticipant/" + r.code)
	for _, a := range r.k.apps {
		for round := 1; round <= a.numRounds; round++ {
			r.playRound(a, round)
		}
	}
	r.app = nil
	r.passWaits()
	if i := r.index(); i <= len(r.k.steps) && i != len(r.k.steps) {
		s, _ := r.k.stepAt(i)
		r.app, r.round = s.app, s.round
		r.fatalf("the bot stopped early, on page %s", s.page.name)
	}
}

// playRound runs the app's bot for one round, unless the participant has
// already gone past that round (AppAfterThisPage can skip rounds).
func (r *botRun) playRound(a *appSpec, round int) {
	r.app, r.round, r.caseName = a, round, caseName(a, r.ci)
	r.passWaits()
	if r.index() > r.lastIndexOf(a, round) {
		return
	}
	if a.bot == nil {
		r.fatalf("app %s has no Bot", a.name)
	}
	a.bot(r)
}

func (r *botRun) lastIndexOf(a *appSpec, round int) int {
	last := 0
	for i, s := range r.k.steps {
		if s.app == a && s.round == round {
			last = i + 1
		}
	}
	return last
}

// index returns the page index of the current path, or past the end.
func (r *botRun) index() int {
	parts := strings.Split(r.path, "/")
	if len(parts) == 6 && parts[1] == "p" {
		if i, err := strconv.Atoi(parts[5]); err == nil {
			return i
		}
	}
	return len(r.k.steps) + 1
}

// report records a failure; stop ends the session's other bots too, since
// they would wait for this one.
func (r *botRun) report(msg string, stop bool) {
	s, ok := r.k.stepAt(r.index())
	if !ok {
		r.reportAt(nil, msg, stop)
		return
	}
	r.reportAt(&s, msg, stop)
}

// reportAt reports a failure on the page of step s, or on no page if s is
// nil.
func (r *botRun) reportAt(s *step, msg string, stop bool) {
	be := &BotError{Config: r.config, Case: r.caseName, Participant: r.id, Code: r.code, Msg: msg}
	if r.app != nil {
		be.App, be.Round = r.app.name, r.round
	}
	if s != nil {
		be.Page = s.page.name
		if r.app == nil {
			be.App, be.Round = s.app.name, s.round
		}
	}
	r.fail(be, stop)
}

func (r *botRun) errorf(format string, args ...any) {
	r.report(fmt.Sprintf(format, args...), false)
}

func (r *botRun) fatalf(format string, args ...any) {
	r.report(fmt.Sprintf(format, args...), true)
	panic(errBotStop{})
}

// fatalfAt is fatalf for a failure of the submission of step s, which the
// bot may already have left.
func (r *botRun) fatalfAt(s step, format string, args ...any) {
	r.reportAt(&s, fmt.Sprintf(format, args...), true)
	panic(errBotStop{})
}

// stopIfCancelled ends the bot quietly when another bot has failed.
func (r *botRun) stopIfCancelled(err error) {
	if r.ctx.Err() != nil {
		panic(errBotStop{})
	}
	r.fatalf("%v", err)
}

// get requests path and follows redirects, keeping the final page.
func (r *botRun) get(path string) {
	r.do(http.MethodGet, path, nil)
}

// do sends a request and follows redirects. It returns the status of the
// first response.
func (r *botRun) do(method, path string, form url.Values) int {
	r.closeTxn()
	first := 0
	for range 20 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(r.ctx, method, r.base+path, body)
		if err != nil {
			r.fatalf("%v", err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := r.client.Do(req)
		if err != nil {
			r.stopIfCancelled(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			r.stopIfCancelled(err)
		}
		if first == 0 {
			first = resp.StatusCode
			r.lastHeader = resp.Header
		}
		switch resp.StatusCode {
		case http.StatusFound, http.StatusSeeOther:
			path, method, form = resp.Header.Get("Location"), http.MethodGet, nil
			continue
		case http.StatusOK:
			r.path, r.html = path, string(b)
			return first
		}
		r.fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, excerpt(string(b)))
	}
	r.fatalf("too many redirects from %s", path)
	return 0
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

// excerpt returns the text of an HTML page, shortened, for error messages.
func excerpt(html string) string {
	s := collapse(htmlpkg.UnescapeString(tagRE.ReplaceAllString(html, " ")))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// passWaits waits on wait pages until the participant is released.
func (r *botRun) passWaits() {
	for {
		s, ok := r.k.stepAt(r.index())
		if !ok || !s.page.isWait() {
			return
		}
		r.waitForRelease(r.index())
		r.get(r.path)
	}
}

// waitForRelease listens on the wait page's socket until it says ready.
func (r *botRun) waitForRelease(index int) {
	ctx, cancel := context.WithTimeout(r.ctx, waitPageLimit)
	defer cancel()
	q := url.Values{"participant_code": {r.code}, "page_index": {strconv.Itoa(index)}}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.base, "http")+"/wait_page?"+q.Encode(), nil)
	if err != nil {
		r.stopIfCancelled(fmt.Errorf("open the wait page's socket: %w", err))
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				r.fatalf("stuck on a wait page for %v: the group was never released", waitPageLimit)
			}
			r.stopIfCancelled(fmt.Errorf("read the wait page's socket: %w", err))
		}
		if strings.Contains(string(msg), `"ready"`) {
			return
		}
	}
}

// submit posts page's form and checks the outcome.
func (r *botRun) submit(page AnyPage, values Values, mustFail bool, errorFields []string) {
	r.passWaits()
	s := r.expectPage(pageName(page))
	form := r.encode(s, values)
	r.checkHTML(form)
	status := r.do(http.MethodPost, r.path, form)
	got := r.lastHeader.Get("X-Otree-Error-Fields")
	switch {
	case status == http.StatusFound && mustFail:
		r.fatalfAt(s, "SubmitMustFail: %s accepted %s", s.page.name, form.Encode())
	case status == http.StatusOK && !mustFail:
		r.fatalfAt(s, "submission of %s was rejected (errors in: %s; sent %s): %s",
			s.page.name, got, form.Encode(), errorText(r.html))
	case mustFail && len(errorFields) > 0:
		want := slices.Clone(errorFields)
		for i, f := range want {
			want[i] = columnOf(s, f)
		}
		slices.Sort(want)
		if strings.Join(want, ",") != got {
			r.fatalfAt(s, "SubmitMustFail: expected errors in %s, got errors in %s",
				strings.Join(want, ","), got)
		}
	}
	r.passWaits()
}

// submitTimeout posts page's form as its timer does when time runs out.
func (r *botRun) submitTimeout(page AnyPage, values Values) {
	r.passWaits()
	s := r.expectPage(pageName(page))
	form := url.Values{}
	for key, v := range values {
		f := r.field(s, key)
		if str, ok := v.(string); ok {
			form.Set(f.column, str)
		} else if x, err := f.toCanonical(v); err == nil {
			form.Set(f.column, format(x))
		}
	}
	form.Set("timeout_happened", "1")
	if status := r.do(http.MethodPost, r.path, form); status != http.StatusFound {
		r.fatalf("the timed-out submission of %s was rejected: %s", s.page.name, errorText(r.html))
	}
	r.passWaits()
}

// expectPage stops the bot unless the participant is on the named page of
// the bot's app and round.
func (r *botRun) expectPage(name string) step {
	s, ok := r.k.stepAt(r.index())
	if !ok {
		r.fatalf("tried to submit %s, but the participant has finished the session", name)
	}
	if s.app != r.app || s.round != r.round || s.page.name != name {
		r.fatalf("tried to submit %s (app %s, round %d), but the participant is on %s "+
			"(app %s, round %d)", name, r.app.name, r.round, s.page.name, s.app.name, s.round)
	}
	return s
}

// columnOf returns the form name of a field given by Go or column name.
func columnOf(s step, name string) string {
	for _, f := range s.page.fields {
		if f.goName == name || f.column == name {
			return f.column
		}
	}
	return name
}

// field returns the page's form field named key, or stops the bot.
func (r *botRun) field(s step, key string) *fieldSpec {
	for _, f := range s.page.fields {
		if f.goName == key || f.column == key {
			return f
		}
	}
	r.fatalf("page %s has no form field %s", s.page.name, key)
	return nil
}

// encode turns bot values into a form, checking each names a form field.
func (r *botRun) encode(s step, values Values) url.Values {
	form := url.Values{}
	for key, v := range values {
		f := r.field(s, key)
		if str, ok := v.(string); ok {
			form.Set(f.column, str)
			continue
		}
		x, err := f.toCanonical(v)
		if err != nil {
			r.fatalf("value for %s: %v", key, err)
		}
		form.Set(f.column, format(x))
	}
	return form
}

var submitRE = regexp.MustCompile(`<button(?:\s[^>]*)?>|<input[^>]*type="submit"`)

// checkHTML checks that the page has an input for each submitted field and
// a button to submit it, as a participant would need.
func (r *botRun) checkHTML(form url.Values) {
	for name := range form {
		re := regexp.MustCompile(`<(input|select|textarea|button)[^>]*\sname="` +
			regexp.QuoteMeta(name) + `"`)
		if !re.MatchString(r.html) {
			r.fatalf("the page has no input named %q", name)
		}
	}
	for _, m := range submitRE.FindAllString(r.html, -1) {
		if !strings.Contains(m, `type="button"`) {
			return
		}
	}
	r.fatalf("the page has no submit button")
}

var errorRE = regexp.MustCompile(`class="otree-(?:field-error|form-errors)"[^>]*>([^<]*)<`)

func errorText(html string) string {
	var msgs []string
	for _, m := range errorRE.FindAllStringSubmatch(html, -1) {
		msgs = append(msgs, htmlpkg.UnescapeString(strings.TrimSpace(m[1])))
	}
	return strings.Join(msgs, "; ")
}

// closeTxn ends the read context models came from.
func (r *botRun) closeTxn() {
	if r.t != nil {
		r.t.done = true
		r.t = nil
	}
}

func (r *botRun) readTxn() *txn {
	r.closeTxn()
	r.t = r.e.readTxn(r.ctx)
	return r.t
}

func (r *botRun) participant() *Participant {
	t := r.readTxn()
	var p *Participant
	err := t.run(func(t *txn) error {
		var err error
		p, err = t.participantByCode(r.code, false)
		return err
	})
	if err != nil || p == nil {
		r.fatalf("read participant: %v", err)
	}
	return p
}

func (r *botRun) player() any {
	p := r.participant()
	var pl any
	if err := r.t.run(func(t *txn) error { pl = t.player(r.app, p.ID, r.round); return nil }); err != nil {
		r.fatalf("read player: %v", err)
	}
	return pl
}
