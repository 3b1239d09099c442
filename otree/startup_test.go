package otree_test

import (
	"embed"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// Broken apps for start-up checks. Each mistake must stop the server with
// an error naming the app, the page and the field.

type bSub struct {
	otree.BaseSubsession[bSub, bGroup, bPlayer]
}

type bGroup struct {
	otree.BaseGroup[bSub, bGroup, bPlayer]
	Total otree.Currency
}

type bPlayer struct {
	otree.BasePlayer[bSub, bGroup, bPlayer]
	Contribution otree.Currency
}

type misspelt struct{ otree.Page }

func (misspelt) FormFields() []string { return []string{"Contributon"} }

type listedTwice struct{ otree.Page }

func (listedTwice) FormFields() []string { return []string{"Contribution", "Contribution"} }

type groupFieldOnPlayerForm struct{ otree.Page }

func (groupFieldOnPlayerForm) FormFields() []string { return []string{"Total"} }

type wrongHook struct{ otree.Page }

func (wrongHook) IsDisplayed(p *pgPlayer) bool { return true }

type unknownHook struct{ otree.Page }

func (unknownHook) BeforeNextPge(p *bPlayer, timedOut bool) {}

type namedTemplate struct{ otree.Page }

func (namedTemplate) TemplateName() string { return "Missing.html" }

type timeoutHook struct{ otree.Page }

func (timeoutHook) Timeout(p *bPlayer) int { return 5 }

type plain struct{ otree.Page }

type pointerHook struct{ otree.Page }

func (*pointerHook) Timeout(p *bPlayer) time.Duration { return time.Second }

type badWait struct{ otree.WaitPage }

func (badWait) AfterAllPlayersArrive(p *bPlayer) {}

type unsupportedPlayer struct {
	otree.BasePlayer[uSub, uGroup, unsupportedPlayer]
	When time.Time
}
type uSub struct {
	otree.BaseSubsession[uSub, uGroup, unsupportedPlayer]
}
type uGroup struct {
	otree.BaseGroup[uSub, uGroup, unsupportedPlayer]
}

type badTagPlayer struct {
	otree.BasePlayer[tSub, tGroup, badTagPlayer]
	Age int `min:"ten"`
}
type misspeltTagPlayer struct {
	otree.BasePlayer[mtSub, mtGroup, misspeltTagPlayer]
	Offer int `mn:"0" max:"100"`
}
type mtSub struct {
	otree.BaseSubsession[mtSub, mtGroup, misspeltTagPlayer]
}
type mtGroup struct {
	otree.BaseGroup[mtSub, mtGroup, misspeltTagPlayer]
}

type tSub struct {
	otree.BaseSubsession[tSub, tGroup, badTagPlayer]
}
type tGroup struct {
	otree.BaseGroup[tSub, tGroup, badTagPlayer]
}

// Models with mistaken hooks and tags.
type mhSub struct {
	otree.BaseSubsession[mhSub, mhGroup, mhPlayer]
}

func (*mhSub) CreatingSesion() {}

type mhGroup struct {
	otree.BaseGroup[mhSub, mhGroup, mhPlayer]
	Offer otree.Currency
}
type mhPlayer struct {
	otree.BasePlayer[mhSub, mhGroup, mhPlayer]
	Accept bool
}

type ohSub struct {
	otree.BaseSubsession[ohSub, ohGroup, ohPlayer]
}
type ohGroup struct {
	otree.BaseGroup[ohSub, ohGroup, ohPlayer]
	Offer otree.Currency
}
type ohPlayer struct {
	otree.BasePlayer[ohSub, ohGroup, ohPlayer]
	Accept bool
}

func (*ohPlayer) OfferMax() otree.Currency { return otree.Cu(5) }

type thSub struct {
	otree.BaseSubsession[thSub, thGroup, thPlayer]
}
type thGroup struct {
	otree.BaseGroup[thSub, thGroup, thPlayer]
}
type thPlayer struct {
	otree.BasePlayer[thSub, thGroup, thPlayer]
	Accept bool
}

func (*thPlayer) AcceptLabel() string   { return "Do you accept?" }
func (*thPlayer) AcceptedLabel() string { return "typo" }

type rangePlayer struct {
	otree.BasePlayer[rSub, rGroup, rangePlayer]
	Age int `min:"200" max:"100"`
}
type rSub struct {
	otree.BaseSubsession[rSub, rGroup, rangePlayer]
}
type rGroup struct {
	otree.BaseGroup[rSub, rGroup, rangePlayer]
}

type dupPlayer struct {
	otree.BasePlayer[dSub, dGroup, dupPlayer]
	Accepted bool `choices:"true:Accept,true:Reject"`
}
type dSub struct {
	otree.BaseSubsession[dSub, dGroup, dupPlayer]
}
type dGroup struct {
	otree.BaseGroup[dSub, dGroup, dupPlayer]
}

//go:embed testdata/stray/*.html
var strayTemplates embed.FS

func brokenProject(app otree.Application, participants int) *otree.Project {
	return &otree.Project{SessionConfigs: []otree.SessionConfig{{
		Name: "broken", Apps: []otree.Application{app}, NumDemoParticipants: participants,
	}}}
}

func TestStartupRejectsMistakes(t *testing.T) {
	app := func(name string, pages ...otree.AnyPage) *otree.App[bSub, bGroup, bPlayer] {
		return &otree.App[bSub, bGroup, bPlayer]{Name: name, Pages: pages}
	}
	tests := []struct {
		name    string
		project *otree.Project
		want    []string // every one must appear in the error
	}{
		{"misspelt form field", brokenProject(app("survey", misspelt{}), 1),
			[]string{"app survey", "page misspelt", "form field Contributon",
				"did you mean Contribution?"}},
		{"form field listed twice", brokenProject(app("survey", listedTwice{}), 1),
			[]string{"app survey", "page listedTwice", "form field Contribution is listed twice"}},
		{"group field on a player form", brokenProject(app("survey", groupFieldOnPlayerForm{}), 1),
			[]string{"app survey", "page groupFieldOnPlayerForm", "it is a Group field", "otree.GroupForm"}},
		{"hook with the wrong player type", brokenProject(app("survey", wrongHook{}), 1),
			[]string{"app survey", "page wrongHook", "IsDisplayed must be func(*bPlayer) bool"}},
		{"misspelt hook", brokenProject(app("survey", unknownHook{}), 1),
			[]string{"app survey", "page unknownHook", "BeforeNextPge is not a hook"}},
		{"missing template", brokenProject(app("survey", namedTemplate{}), 1),
			[]string{"app survey", "page namedTemplate", "Missing.html not found"}},
		{"wrong timeout type", brokenProject(app("survey", timeoutHook{}), 1),
			[]string{"app survey", "page timeoutHook", "Timeout must be func(*bPlayer) time.Duration"}},
		{"wait page hook on a player", brokenProject(app("survey", badWait{}), 1),
			[]string{"app survey", "page badWait", "AfterAllPlayersArrive must be"}},
		{"group size does not divide the participants", brokenProject(
			&otree.App[bSub, bGroup, bPlayer]{Name: "trio", PlayersPerGroup: 3,
				Pages: []otree.AnyPage{plain{}}}, 4),
			[]string{"session config broken", "NumDemoParticipants 4", "3 (app trio)"}},
		{"unsupported field type", brokenProject(&otree.App[uSub, uGroup, unsupportedPlayer]{
			Name: "times", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app times", "Player field When", "unsupported type time.Time"}},
		{"bad tag", brokenProject(&otree.App[tSub, tGroup, badTagPlayer]{
			Name: "ages", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app ages", "Player field Age", `"ten" is not a whole number`}},
		{"misspelt tag key", brokenProject(&otree.App[mtSub, mtGroup, misspeltTagPlayer]{
			Name: "offers", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app offers", "Player field Offer", `unknown tag key "mn" (did you mean min?)`}},
		{"template for no page", brokenProject(&otree.App[bSub, bGroup, bPlayer]{
			Name: "stray", Pages: []otree.AnyPage{plain{}}, Templates: mustSub(strayTemplates, "testdata/stray")}, 1),
			[]string{"app stray", "template Contribte.html belongs to no page"}},
		{"bad app name", brokenProject(app("Bad-Name", plain{}), 1),
			[]string{`Name "Bad-Name"`}},
		{"reserved app name", brokenProject(app("pg", plain{}), 1),
			[]string{`Name "pg" is reserved`}},
		{"page listed as a pointer", brokenProject(app("ptr", &plain{}), 1),
			[]string{"app ptr", "page *plain", "list the page as a value"}},
		{"hook with a pointer receiver", brokenProject(app("ptrhook", pointerHook{}), 1),
			[]string{"app ptrhook", "page pointerHook", "Timeout has a pointer receiver"}},
		{"no pages", brokenProject(app("empty"), 1), []string{"app empty", "Pages is empty"}},
		{"misspelt CreatingSession", brokenProject(&otree.App[mhSub, mhGroup, mhPlayer]{
			Name: "hooks", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app hooks", "Subsession method CreatingSesion", "did you mean CreatingSession?"}},
		{"field hook on the other model", brokenProject(&otree.App[ohSub, ohGroup, ohPlayer]{
			Name: "other", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app other", "Player method OfferMax", "Offer is a field of the Group"}},
		{"field hook of a misspelt field", brokenProject(&otree.App[thSub, thGroup, thPlayer]{
			Name: "typo", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app typo", "Player method AcceptedLabel", "did you mean Accept?"}},
		{"min above max", brokenProject(&otree.App[rSub, rGroup, rangePlayer]{
			Name: "ranges", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app ranges", "Player field Age", "min 200 is above max 100"}},
		{"a choice twice", brokenProject(&otree.App[dSub, dGroup, dupPlayer]{
			Name: "dups", Pages: []otree.AnyPage{plain{}}}, 1),
			[]string{"app dups", "Player field Accepted", "listed twice"}},
		{"more roles than players", brokenProject(&otree.App[bSub, bGroup, bPlayer]{
			Name: "roles", PlayersPerGroup: 2, Roles: []string{"A", "B", "C"},
			Pages: []otree.AnyPage{plain{}}}, 2),
			[]string{"app roles", "3 roles for groups of 2"}},
		{"a role twice", brokenProject(&otree.App[bSub, bGroup, bPlayer]{
			Name: "roles2", PlayersPerGroup: 2, Roles: []string{"A", "A"},
			Pages: []otree.AnyPage{plain{}}}, 2),
			[]string{"app roles2", `role "A" is named twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := otree.NewServer(tt.project, &otree.ServerOptions{
				SQLitePath: t.TempDir() + "/db.sqlite3", Logger: quietLogger()})
			if err == nil {
				t.Fatal("NewServer succeeded, want a start-up error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

//go:embed testdata/badtmpl/*.html
var badTemplates embed.FS

// A template that reads a field of a model that the model lacks stops
// start-up, naming the app, page, file, line and field; other templates,
// including those that read what only run time knows, start.
func TestTemplateFieldsChecked(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string // nil: start-up succeeds
	}{
		{"player field", `{{.Player.Nope}}`, []string{"page plain", "plain.html:1", ".Player.Nope", "bPlayer", "Nope"}},
		{"group field", `<p>{{if .Group.Nope}}x{{end}}</p>`, []string{"plain.html:1", "bGroup", "Nope"}},
		{"subsession", `{{.Subsession.Nope}}`, []string{"bSub", "Nope"}},
		{"in with", `{{with .Player}}{{.Contribution}}{{.Nope}}{{end}}`, []string{"bPlayer", "Nope"}},
		{"in range", `{{range .Group.Players}}{{.Nope}}{{end}}`, []string{"bPlayer", "Nope"}},
		{"through $", `{{range .Group.Players}}{{$.Player.Nope}}{{end}}`, []string{"bPlayer", "Nope"}},
		{"method result", `{{(.Player.InRound 1).Group.Nope}}`, nil}, // a chain: not checked
		{"method then field", `{{with .Player.Group}}{{.Nope}}{{end}}`, []string{"bGroup", "Nope"}},
		{"page data", `{{.Nope}}`, []string{"PageData", "Nope"}},
		{"form field", `{{.FormField "Nope"}}`, []string{"plain.html:1", `"Nope"`, "form has no field Nope"}},
		{"field error", `{{.FieldError "Nope"}}`, []string{"form has no field Nope"}},
		{"display", `{{.Display "Nope"}}`, []string{"Player has no field Nope"}},
		{"fine", `{{.Player.Contribution}} {{.Player.Payoff}} {{.Group.IDInSubsession}}
			{{range .Player.InAllRounds}}{{.Contribution}}{{end}} {{.Participant.Vars.x.y}}
			{{with .Vars.x}}{{.Anything}}{{end}} {{.Vars.a.b.c}}
			{{.C}} {{.Round}} {{.Session.Code}} {{.Display "Contribution"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := brokenProject(&otree.App[bSub, bGroup, bPlayer]{
				Name: "tmpl", Pages: []otree.AnyPage{plain{}},
				Templates: fstest.MapFS{"plain.html": {Data: []byte(tt.content)}}}, 1)
			s, err := otree.NewServer(p, &otree.ServerOptions{
				SQLitePath: t.TempDir() + "/db.sqlite3", Logger: quietLogger()})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("NewServer: %v", err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("NewServer succeeded, want a start-up error")
			}
			for _, w := range append(tt.want, "app tmpl") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A template that fails on what only run time knows (a form field named by
// a var) fails when the page is shown, and the error names the template
// file and line.
func TestTemplateErrorNamesFile(t *testing.T) {
	p := brokenProject(&otree.App[bSub, bGroup, bPlayer]{
		Name: "badtmpl", Pages: []otree.AnyPage{plain{}},
		Templates: mustSub(badTemplates, "testdata/badtmpl")}, 1)
	s := otreetest.NewServer(t, p, &otree.ServerOptions{Logger: quietLogger()})
	_, codes := session(t, s.URL, "broken", 1)
	_, r := newClient(t, s.URL).follow("/InitializeParticipant/" + codes[0])
	if r.status != 500 || !strings.Contains(r.body, "plain.html:3") ||
		!strings.Contains(r.body, ".Vars.field") {
		t.Errorf("status %d, body %q: want a 500 naming plain.html:3 and what failed", r.status, r.body)
	}
}
