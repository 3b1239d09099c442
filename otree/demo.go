package otree

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var demoPage = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/static/otree/otree.css"></head>
<body class="otree-body"><main class="otree-main">
<h1 class="otree-title">{{.Title}}</h1>
{{with .Intro}}<p>{{.}}</p>{{end}}
{{range .Configs}}<div class="otree-card">
<h2>{{.DisplayName}}</h2>
<p class="otree-muted">{{.Participants}} participants · apps: {{.Apps}}</p>
{{with .Doc}}<p>{{.}}</p>{{end}}
{{with .Params}}<p class="otree-muted">{{range $i, $p := .}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</p>{{end}}
<form method="post" action="/demo/{{.Name}}"><button class="otree-btn" type="submit">Create demo session</button></form>
</div>{{end}}
</main></body></html>`))

var linksPage = template.Must(template.New("links").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Session {{.Code}}</title><link rel="stylesheet" href="/static/otree/otree.css"></head>
<body class="otree-body"><main class="otree-main">
<h1 class="otree-title">Session {{.Code}}</h1>
<p class="otree-muted">{{.Config}} · {{len .Links}} participants</p>
<p>Session-wide link (hands out the next free participant):<br><a href="{{.JoinURL}}">{{.JoinURL}}</a></p>
<table class="otree-table otree-links"><thead><tr><th>#</th><th>Participant link</th></tr></thead><tbody>
{{range .Links}}<tr><td>{{.ID}}</td><td><a href="{{.URL}}" target="_blank">{{.URL}}</a></td></tr>{{end}}
</tbody></table>
<p><a href="/demo">Back to the demo page</a></p>
</main></body></html>`))

// demoAllowed reports whether the demo pages are open: everywhere except
// OTREE_AUTH_LEVEL=STUDY, where only participants' pages are.
func (e *engine) demoAllowed(w http.ResponseWriter) bool {
	if strings.EqualFold(e.opts.AuthLevel, "STUDY") {
		e.message(w, http.StatusForbidden, "Not available",
			"The demo pages are off while OTREE_AUTH_LEVEL is STUDY.")
		return false
	}
	return true
}

func (e *engine) demoIndex(w http.ResponseWriter, r *http.Request) {
	if !e.demoAllowed(w) {
		return
	}
	type entry struct {
		Name, DisplayName, Doc, Apps string
		Participants                 int
		Params                       []string
	}
	var list []entry
	for _, c := range e.project.SessionConfigs {
		k := e.kinds[c.Name]
		var apps []string
		for _, a := range k.apps {
			apps = append(apps, a.name)
		}
		list = append(list, entry{
			Name: k.Name, DisplayName: k.DisplayName, Doc: k.Doc,
			Apps: strings.Join(apps, ", "), Participants: k.NumDemoParticipants,
			Params: paramList(k.params),
		})
	}
	title := e.project.DemoPageTitle
	if title == "" {
		title = "Demo"
	}
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	demoPage.Execute(w, map[string]any{"Title": title, "Intro": e.project.DemoPageIntro,
		"Configs": list})
}

// paramList shows a config's parameters as name=value, sorted by name.
func paramList(params map[string]any) []string {
	var out []string
	for k, v := range params {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(out)
	return out
}

func (e *engine) createDemo(w http.ResponseWriter, r *http.Request) {
	if !e.demoAllowed(w) {
		return
	}
	s, err := e.createSession(r.Context(), SessionOptions{Config: r.PathValue("config"), Demo: true})
	var ce *ConfigError
	if errors.As(err, &ce) {
		e.message(w, http.StatusNotFound, "No such session config", ce.Msg)
		return
	}
	if err != nil {
		e.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/SessionStartLinks/"+s.Code, http.StatusSeeOther)
}

// startLinks lists a session's participant links. As in oTree's DEMO
// level, anyone who knows the session's code may see them.
func (e *engine) startLinks(w http.ResponseWriter, r *http.Request) {
	if !e.demoAllowed(w) {
		return
	}
	s, parts, err := e.sessionWithParticipants(r.Context(), r.PathValue("code"))
	if errors.Is(err, gorm.ErrRecordNotFound) {
		e.finish(w, r, errNotFound, "", nil)
		return
	}
	if err != nil {
		e.serverError(w, r, err)
		return
	}
	type link struct {
		ID  int
		URL string
	}
	links := make([]link, len(parts))
	for i, p := range parts {
		links[i] = link{p.IDInSession, baseURL(r) + "/InitializeParticipant/" + p.Code}
	}
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	linksPage.Execute(w, map[string]any{"Code": s.Code, "Config": s.ConfigName, "Links": links,
		"JoinURL": baseURL(r) + "/join/" + s.AnonCode})
}

// baseURL returns the scheme and host the request came to.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// join hands out a participant of a session by its anonymous code: the one
// with the given participant_label if any, else the next unvisited one.
func (e *engine) join(w http.ResponseWriter, r *http.Request) {
	label := r.URL.Query().Get("participant_label")
	if !e.labelOK(w, label) {
		return
	}
	cookieName := "otree_join_" + r.PathValue("anon")
	var known string // the participant this browser joined as before
	if c, err := r.Cookie(cookieName); err == nil {
		known = c.Value
	}
	var p *Participant
	var to string
	var demo bool
	err := e.write(r.Context(), func(t *txn) error {
		var k *sessionKind
		var err error
		p, k, demo, err = e.joinSession(t, r.PathValue("anon"), known, label)
		if err != nil || p == nil {
			return err
		}
		if p.PageIndex == 0 {
			t.start(k, p, label)
		}
		to = pageURL(k, p)
		return nil
	})
	if err == nil && p == nil {
		e.message(w, http.StatusNotFound, "Session is full",
			"All places in this session are taken.")
		return
	}
	if err == nil && !demo {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: p.Code, Path: "/join/",
			MaxAge: 7 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	e.finish(w, r, err, to, nil)
}

// joinSession finds the participant a join gives: the browser's earlier
// one, else the one labelled label, else the next free one; nil if the
// session is full. It locks the session row, so that concurrent joins
// hand out different participants.
func (e *engine) joinSession(t *txn, anon, known, label string) (*Participant, *sessionKind, bool, error) {
	if !isCode(anon) {
		return nil, nil, false, errNotFound
	}
	var s Session
	q := t.db().Where("anon_code = ?", anon)
	if e.store.postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, false, errNotFound
	}
	if err != nil {
		return nil, nil, false, err
	}
	k, err := e.kindFor(t, s.ID)
	if err != nil {
		return nil, nil, false, err
	}
	parts := t.sessionParticipants(t.adoptSession(&s).ID)
	p := returning(parts, known, label, s.IsDemo)
	if p == nil {
		p = claim(parts, label)
	}
	if p != nil {
		// Their own start link may be starting them at the same moment.
		p = t.lockParticipant(p.ID)
	}
	return p, k, s.IsDemo, nil
}

// returning finds the participant a browser joined as before, from its
// cookie, unless a label names someone else. Demo sessions give every tab
// a new participant, so that one browser can play all the roles.
func returning(parts []*Participant, known, label string, demo bool) *Participant {
	if demo || known == "" {
		return nil
	}
	i := slices.IndexFunc(parts, func(p *Participant) bool { return p.Code == known })
	if i < 0 || (label != "" && parts[i].Label != label) {
		return nil
	}
	return parts[i]
}

// claim picks the participant for a join: the one already labelled label,
// else the first who has not started.
func claim(parts []*Participant, label string) *Participant {
	if label != "" {
		if i := slices.IndexFunc(parts, func(p *Participant) bool { return p.Label == label }); i >= 0 {
			return parts[i]
		}
	}
	i := slices.IndexFunc(parts, func(p *Participant) bool { return !p.Visited && p.Label == "" })
	if i < 0 {
		return nil
	}
	return parts[i]
}

// sessionWithParticipants reads a session by code and its participants by
// IDInSession, outside any transaction.
func (e *engine) sessionWithParticipants(ctx context.Context, code string) (*Session, []Participant, error) {
	if !isCode(code) {
		return nil, nil, gorm.ErrRecordNotFound
	}
	var s Session
	var parts []Participant
	db := e.store.r.WithContext(ctx)
	if err := db.Where("code = ?", code).Take(&s).Error; err != nil {
		return nil, nil, err
	}
	err := db.Where("session_id = ?", s.ID).Order("id_in_session").Find(&parts).Error
	return &s, parts, err
}
