// Package prisoner is a one-shot prisoner's dilemma: two players each
// choose to cooperate or defect without knowing the other's choice.
package prisoner

import (
	"embed"
	"time"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's payoffs; templates see them as .C.
var C = struct {
	PayoffA otree.Currency // I defect, the other cooperates
	PayoffB otree.Currency // we both cooperate
	PayoffC otree.Currency // we both defect
	PayoffD otree.Currency // I cooperate, the other defects
}{otree.Cu(300), otree.Cu(200), otree.Cu(100), otree.Cu(0)}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Cooperate bool `choices:"true:Cooperate,false:Defect" widget:"radio"`
}

// Introduction explains the game; it moves on by itself after 100 seconds.
type Introduction struct{ otree.Page }

func (Introduction) Timeout(p *Player) time.Duration { return 100 * time.Second }

// Decision asks for the choice with two buttons instead of the field's
// radio buttons.
type Decision struct{ otree.Page }

func (Decision) FormFields() []string { return []string{"Cooperate"} }

// ResultsWaitPage waits for both, then computes payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	// payoffs by (my choice, other's choice), true meaning cooperate
	payoffs := map[[2]bool]otree.Currency{
		{false, true}:  C.PayoffA,
		{true, true}:   C.PayoffB,
		{false, false}: C.PayoffC,
		{true, false}:  C.PayoffD,
	}
	for _, p := range g.Players() {
		other := p.OthersInGroup()[0]
		p.Payoff = payoffs[[2]bool{p.Cooperate, other.Cooperate}]
	}
}

// Results shows both choices and the payoff.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	other := p.OthersInGroup()[0]
	return otree.Vars{
		"SameChoice":   p.Cooperate == other.Cooperate,
		"MyChoice":     p.FieldDisplay(&p.Cooperate),
		"OthersChoice": other.FieldDisplay(&other.Cooperate),
	}
}

// App is the prisoner's dilemma.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "prisoner",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Decision{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"both_cooperate", "both_defect", "p1_defects"},
}
