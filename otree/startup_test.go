package otree_test

import (
	"embed"
	"strings"
	"testing"
	"time"

	"github.com/gotree/gotree/otree"
)

// Broken apps for start-up checks. Each mistake must stop the server with
// an error naming the app, the page and the field.

type bSub struct {
	otree.BaseSubsession[bSub, bGroup, bPlayer]
}

type bGroup struct {
	otree.BaseGroup[bSub, bGroup, bPlayer]
}

type bPlayer struct {
	otree.BasePlayer[bSub, bGroup, bPlayer]
	Contribution otree.Currency
}

type misspelt struct{ otree.Page }

func (misspelt) FormFields() []string { return []string{"Contributon"} }

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
type tSub struct {
	otree.BaseSubsession[tSub, tGroup, badTagPlayer]
}
type tGroup struct {
	otree.BaseGroup[tSub, tGroup, badTagPlayer]
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
