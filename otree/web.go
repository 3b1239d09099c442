package otree

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errNotFound marks a request for a participant, session or page that does
// not exist.
var errNotFound = errors.New("otree: not found")

// maxFormBytes bounds a page submission.
const maxFormBytes = 1 << 20

func (e *engine) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.demoIndex)
	mux.HandleFunc("GET /demo", e.demoIndex)
	mux.HandleFunc("POST /demo/{config}", e.createDemo)
	mux.HandleFunc("GET /SessionStartLinks/{code}", e.startLinks)
	mux.HandleFunc("GET /InitializeParticipant/{code}", e.initialize)
	mux.HandleFunc("GET /p/{code}/{app}/{page}/{index}", e.getPage)
	mux.HandleFunc("POST /p/{code}/{app}/{page}/{index}", e.postPage)
	mux.HandleFunc("GET /OutOfRangeNotification/{code}", e.outOfRange)
	mux.HandleFunc("GET /join/{anon}", e.join)
	mux.HandleFunc("GET /wait_page", e.serveSocket("wait_page"))
	mux.HandleFunc("GET /auto_advance", e.serveSocket("auto_advance"))
	mux.HandleFunc("POST /api/sessions", e.apiCreateSession)
	mux.HandleFunc("GET /api/sessions/{code}", e.apiGetSession)
	mux.HandleFunc("POST /api/get_session/{code}", e.apiGetSession)
	mux.HandleFunc("GET /api/session_configs", e.apiSessionConfigs)
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/static/otree/", http.FileServerFS(static))
	mux.HandleFunc("GET /static/otree/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
	return mux
}

// pageURL returns the URL of the page p is on.
func pageURL(k *sessionKind, p *Participant) string {
	if p.PageIndex == 0 {
		return "/InitializeParticipant/" + p.Code
	}
	s, ok := k.stepAt(p.PageIndex)
	if !ok {
		return "/OutOfRangeNotification/" + p.Code
	}
	return fmt.Sprintf("/p/%s/%s/%s/%d", p.Code, s.app.name, s.page.name, p.PageIndex)
}

// initialize starts a participant at the first page, or sends one who has
// started to their current page.
func (e *engine) initialize(w http.ResponseWriter, r *http.Request) {
	code, label := r.PathValue("code"), r.URL.Query().Get("participant_label")
	if !e.labelOK(w, label) {
		return
	}
	var to string
	err := e.write(r.Context(), func(t *txn) error {
		p, k, err := e.participant(t, code, true)
		if err != nil {
			return err
		}
		if p.PageIndex == 0 {
			t.start(k, p, label)
		}
		to = pageURL(k, p)
		return nil
	})
	e.finish(w, r, err, to, nil)
}

// labelOK answers 400 for a participant label the database cannot hold.
func (e *engine) labelOK(w http.ResponseWriter, label string) bool {
	if len(label) <= 100 && storableText(label) {
		return true
	}
	e.message(w, http.StatusBadRequest, "Invalid label",
		"A participant label is at most 100 characters of text.")
	return false
}

// participant loads a participant by code with its session config.
func (e *engine) participant(t *txn, code string, lock bool) (*Participant, *sessionKind, error) {
	p, err := t.participantByCode(code, lock)
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		return nil, nil, errNotFound
	}
	k, err := e.kindFor(t, p.SessionID)
	return p, k, err
}

// pageRequest is the participant code and page named by a page URL.
type pageRequest struct {
	code, app, page string
	index           int
}

func parsePageRequest(r *http.Request) pageRequest {
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil {
		i = -1
	}
	return pageRequest{r.PathValue("code"), r.PathValue("app"), r.PathValue("page"), i}
}

// current reports whether the request names the page p is on.
func (pr pageRequest) current(k *sessionKind, p *Participant) bool {
	s, ok := k.stepAt(pr.index)
	return ok && pr.index == p.PageIndex && s.app.name == pr.app && s.page.name == pr.page
}

func (e *engine) getPage(w http.ResponseWriter, r *http.Request) {
	e.showPage(w, r, parsePageRequest(r), nil)
}

// showPage renders the requested page, with the errors of a rejected
// submission if fe is not nil, or redirects to the page the participant is
// on.
func (e *engine) showPage(w http.ResponseWriter, r *http.Request, pr pageRequest, fe *formError) {
	var to string
	var body []byte
	err := e.read(r.Context(), func(t *txn) error {
		to, body = "", nil
		p, k, err := e.participant(t, pr.code, false)
		if err != nil {
			return err
		}
		if !pr.current(k, p) {
			to = pageURL(k, p)
			return nil
		}
		body, err = e.render(t, k, p, pr.index, fe)
		return err
	})
	if err == nil && to == "" && fe != nil {
		w.Header().Set("oTree-Redisplay-With-Errors", "true")
		w.Header().Set("X-Otree-Error-Fields", errorFields(fe))
	}
	e.finish(w, r, err, to, body)
}

func (e *engine) postPage(w http.ResponseWriter, r *http.Request) {
	pr := parsePageRequest(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	var to string
	err := e.write(r.Context(), func(t *txn) error {
		to = ""
		p, k, err := e.participant(t, pr.code, true)
		if err != nil {
			return err
		}
		s, _ := k.stepAt(pr.index)
		if !pr.current(k, p) || s.page.isWait() {
			to = pageURL(k, p)
			return nil
		}
		err = t.submit(k, p, pr.index, r.PostForm, e.timedOut(r, p, pr.index))
		to = pageURL(k, p)
		return err
	})
	var fe *formError
	if errors.As(err, &fe) {
		e.showPage(w, r, pr, fe)
		return
	}
	e.finish(w, r, err, to, nil)
}

// timedOut reports whether a submission counts as a timeout: the page's
// script says so and the deadline is at most 2 s away, so a participant
// cannot fake a timeout early. Only bots created by the test command may
// time out a page at will.
func (e *engine) timedOut(r *http.Request, p *Participant, index int) bool {
	if r.PostForm.Get("timeout_happened") == "" {
		return false
	}
	if p.IsBot {
		return true // bot participants have no deadlines; their bots say when
	}
	return p.ExpiryPage == index && p.ExpiryAt != nil && time.Until(*p.ExpiryAt) < 2*time.Second
}

func (e *engine) outOfRange(w http.ResponseWriter, r *http.Request) {
	err := e.read(r.Context(), func(t *txn) error {
		_, _, err := e.participant(t, r.PathValue("code"), false)
		return err
	})
	if err != nil {
		e.finish(w, r, err, "", nil)
		return
	}
	e.message(w, http.StatusOK, "The end", "You have completed this session. "+
		"There are no more pages. You may close this window.")
}

// finish writes a page response: an error page, a redirect or the body.
func (e *engine) finish(w http.ResponseWriter, r *http.Request, err error, to string, body []byte) {
	noCache(w)
	switch {
	case errors.Is(err, errNotFound):
		e.message(w, http.StatusNotFound, "Page not found",
			"This link is not valid. Check that you copied the whole address.")
	case err != nil && r.Context().Err() != nil:
		// The client went away, which cancels the request's transaction
		// (then "already rolled back" at commit): nothing was written, and
		// there is no one to answer.
		e.log.Debug("request abandoned by the client", "path", r.URL.Path, "err", err)
	case err != nil:
		e.serverError(w, r, err)
	case to != "":
		http.Redirect(w, r, to, http.StatusFound)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	}
}

// noCache keeps browsers from caching pages, so that Back shows the page
// the server says the participant is on.
func noCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate")
}

func (e *engine) serverError(w http.ResponseWriter, r *http.Request, err error) {
	var he *HookError
	if errors.As(err, &he) {
		e.log.Error("hook failed", "hook", he.Hook, "panic", fmt.Sprint(he.Value),
			"path", r.URL.Path, "stack", string(he.Stack))
	} else {
		e.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	msg := "The server could not complete this request. Please try again in a moment."
	if !e.opts.Production {
		msg = err.Error()
	}
	e.message(w, http.StatusInternalServerError, "Server error", msg)
}

var messagePage = template.Must(template.New("message").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/static/otree/otree.css"></head>
<body class="otree-body"><main class="otree-main"><h1 class="otree-title">{{.Title}}</h1>
<p>{{.Text}}</p></main></body></html>`))

// message writes a simple page with a title and a sentence.
func (e *engine) message(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	noCache(w)
	w.WriteHeader(status)
	messagePage.Execute(w, struct{ Title, Text string }{title, text})
}

// errorFields lists the fields of a rejected submission, sorted, with
// "__all__" for a page-level error.
func errorFields(fe *formError) string {
	var names []string
	for f := range fe.fields {
		names = append(names, f)
	}
	if fe.page != "" {
		names = append(names, "__all__")
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
