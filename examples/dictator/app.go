// Package dictator is the dictator game of Kahneman, Knetsch and Thaler
// (1986): player 1 decides how to split 100 points with player 2, who has
// no say.
package dictator

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	Endowment otree.Currency
}{otree.Cu(100)}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	Kept otree.Currency `label:"I will keep" max:"100"`
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
}

// Introduction explains the game to both players.
type Introduction struct{ otree.Page }

// Offer is player 1's decision.
type Offer struct{ otree.Page }

func (Offer) FormModel() otree.FormModel { return otree.GroupForm }
func (Offer) FormFields() []string       { return []string{"Kept"} }
func (Offer) IsDisplayed(p *Player) bool { return p.IDInGroup() == 1 }

// ResultsWaitPage waits for both players, then sets payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	g.PlayerByID(1).Payoff = g.Kept
	g.PlayerByID(2).Payoff = C.Endowment.Sub(g.Kept)
}

// Results shows the split.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"Offer": C.Endowment.Sub(p.Group().Kept)}
}

// App is the dictator game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "dictator",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Offer{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
}
