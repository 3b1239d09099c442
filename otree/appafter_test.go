package otree_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// Three apps; the first page of the first jumps to the third for players
// who answer yes, and to a name that is not upcoming for "bad".

type jmSub struct {
	otree.BaseSubsession[jmSub, jmGroup, jmPlayer]
}
type jmGroup struct {
	otree.BaseGroup[jmSub, jmGroup, jmPlayer]
}
type jmPlayer struct {
	otree.BasePlayer[jmSub, jmGroup, jmPlayer]
	Skip string `choices:"yes,no,bad"`
}

type jmAsk struct{ otree.Page }

func (jmAsk) FormFields() []string { return []string{"Skip"} }
func (jmAsk) AppAfterThisPage(p *jmPlayer, upcoming []string) string {
	switch p.Skip {
	case "yes":
		return upcoming[len(upcoming)-1]
	case "bad":
		return "jump_first"
	}
	return ""
}

type jmPage struct{ otree.Page }

func jumpApp(name string, pages ...otree.AnyPage) *otree.App[jmSub, jmGroup, jmPlayer] {
	return &otree.App[jmSub, jmGroup, jmPlayer]{Name: name, NumRounds: 2, Pages: pages}
}

var jumpProject = &otree.Project{SessionConfigs: []otree.SessionConfig{{
	Name: "jump",
	Apps: []otree.Application{jumpApp("jump_first", jmAsk{}, jmPage{}), jumpApp("jump_middle", jmPage{}),
		jumpApp("jump_last", jmPage{})},
	NumDemoParticipants: 3,
}}}

func TestAppAfterThisPage(t *testing.T) {
	s := otreetest.NewServer(t, jumpProject, &otree.ServerOptions{Logger: quietLogger()})
	_, codes := session(t, s.URL, "jump", 3)
	c := newClient(t, s.URL)
	start := func(code string) string {
		path, _ := c.follow("/InitializeParticipant/" + code)
		return path
	}

	// "yes" skips the rest of the first app and the middle app.
	r := c.post(start(codes[0]), url.Values{"skip": {"yes"}})
	if r.status != http.StatusFound || !strings.Contains(r.location, "/jump_last/jmPage/") {
		t.Errorf("after yes: redirected to %q, want the last app's first page", r.location)
	}
	// "no" goes on to the next page of the same app.
	r = c.post(start(codes[1]), url.Values{"skip": {"no"}})
	if !strings.Contains(r.location, "/jump_first/jmPage/2") {
		t.Errorf("after no: redirected to %q, want the next page", r.location)
	}
	// An app that is not upcoming is the experimenter's mistake: a server
	// error that names the hook, and the participant stays on the page.
	path := start(codes[2])
	r = c.post(path, url.Values{"skip": {"bad"}})
	if r.status != http.StatusInternalServerError ||
		!strings.Contains(r.body, "jmAsk.AppAfterThisPage") || !strings.Contains(r.body, "upcoming") {
		t.Errorf("a jump to a past app: status %d, want 500 naming the hook; body %s", r.status, r.body)
	}
	if now, _ := c.follow(path); now != path {
		t.Errorf("after the failed jump the participant is on %s, want %s", now, path)
	}
}
