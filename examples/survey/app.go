// Package survey asks for age and gender, then poses the three questions of
// the cognitive reflection test (Frederick 2005). It pays nothing.
package survey

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Age    int    `label:"What is your age?" min:"13" max:"125"`
	Gender string `label:"What is your gender?" choices:"Male,Female" widget:"radio"`

	// The cognitive reflection test; the questions are their labels.
	CrtBat    int
	CrtWidget int
	CrtLake   int
}

func (*Player) CrtBatLabel() string {
	return "Together, a bat and a ball cost 22 dollars. The bat costs 20 dollars more " +
		"than the ball. How many dollars does the ball cost?"
}

func (*Player) CrtWidgetLabel() string {
	return "Five machines make five widgets in five minutes. How many minutes would " +
		"100 machines take to make 100 widgets?"
}

func (*Player) CrtLakeLabel() string {
	return "A patch of lily pads on a lake doubles in size every day. It covers the " +
		"whole lake after 48 days. After how many days did it cover half the lake?"
}

// Demographics asks for age and gender.
type Demographics struct{ otree.Page }

func (Demographics) FormFields() []string { return []string{"Age", "Gender"} }

// CognitiveReflectionTest poses the three questions.
type CognitiveReflectionTest struct{ otree.Page }

func (CognitiveReflectionTest) FormFields() []string {
	return []string{"CrtBat", "CrtWidget", "CrtLake"}
}

// App is the survey. Everyone answers alone, so one group holds everyone.
var App = &otree.App[Subsession, Group, Player]{
	Name:      "survey",
	Pages:     []otree.AnyPage{Demographics{}, CognitiveReflectionTest{}},
	Templates: templates,
	Bot:       playRound,
}
