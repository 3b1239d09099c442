// Package cournot is a Cournot duopoly: two firms choose how many units to
// produce, and the more they produce together, the lower the price.
package cournot

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	TotalCapacity     int // the total output at which the price falls to 0
	MaxUnitsPerPlayer int
}{60, 30}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	UnitPrice  otree.Currency
	TotalUnits int
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Units int `label:"How many units will you produce (from 0 to 30)?" max:"30"`
}

// Introduction explains the market.
type Introduction struct{ otree.Page }

// Decide asks for the quantity.
type Decide struct{ otree.Page }

func (Decide) FormFields() []string { return []string{"Units"} }

// ResultsWaitPage waits for both firms, then sets the price and payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) BodyText() string { return "Waiting for the other participant to decide." }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	for _, p := range players {
		g.TotalUnits += p.Units
	}
	g.UnitPrice = otree.Cu(C.TotalCapacity - g.TotalUnits)
	for _, p := range players {
		p.Payoff = g.UnitPrice.Mul(float64(p.Units))
	}
}

// Results shows both quantities, the price and the payoff.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"Other": p.OthersInGroup()[0]}
}

// App is the Cournot game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "cournot",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Decide{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"min", "max", "asymmetric", "symmetric"},
}
