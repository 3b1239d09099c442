// Package trust is the investment game of Berg, Dickhaut and McCabe (1995):
// the first player sends part of an endowment to the second, the amount is
// tripled on the way, and the second player decides how much to send back.
package trust

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	Endowment  otree.Currency // what the first player starts with
	Multiplier float64        // what the amount sent is multiplied by
}{otree.Cu(100), 3}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	SentAmount     otree.Currency `label:"Please enter an amount from 0 to 100:" max:"100"`
	SentBackAmount otree.Currency `label:"How much do you send back?"`
}

// SentBackAmountMax lets the second player return at most what arrived.
func (g *Group) SentBackAmountMax() otree.Currency { return g.SentAmount.Mul(C.Multiplier) }

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
}

// Introduction explains the game to both players.
type Introduction struct{ otree.Page }

// Send lets player 1 choose how much to send.
type Send struct{ otree.Page }

func (Send) FormModel() otree.FormModel { return otree.GroupForm }
func (Send) FormFields() []string       { return []string{"SentAmount"} }
func (Send) IsDisplayed(p *Player) bool { return p.IDInGroup() == 1 }

// SendBackWaitPage holds player 2 until player 1 has sent.
type SendBackWaitPage struct{ otree.WaitPage }

// SendBack lets player 2 choose how much of the tripled amount to return.
type SendBack struct{ otree.Page }

func (SendBack) FormModel() otree.FormModel { return otree.GroupForm }
func (SendBack) FormFields() []string       { return []string{"SentBackAmount"} }
func (SendBack) IsDisplayed(p *Player) bool { return p.IDInGroup() == 2 }

func (SendBack) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"TripledAmount": p.Group().SentAmount.Mul(C.Multiplier)}
}

// ResultsWaitPage waits for both players, then computes payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	p1, p2 := g.PlayerByID(1), g.PlayerByID(2)
	p1.Payoff = C.Endowment.Sub(g.SentAmount).Add(g.SentBackAmount)
	p2.Payoff = g.SentAmount.Mul(C.Multiplier).Sub(g.SentBackAmount)
}

// Results shows both amounts and the payoff.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"TripledAmount": p.Group().SentAmount.Mul(C.Multiplier)}
}

// App is the trust game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "trust",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages: []otree.AnyPage{
		Introduction{}, Send{}, SendBackWaitPage{}, SendBack{}, ResultsWaitPage{}, Results{},
	},
	Templates: templates,
	Bot:       playRound,
}
