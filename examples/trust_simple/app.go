// Package trustsimple is the tutorial's trust game: participant A sends
// part of 10 points to participant B, the amount is tripled, and B picks
// how much of it to send back from a list.
package trustsimple

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	Endowment  otree.Currency
	Multiplier float64
}{otree.Cu(10), 3}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	SentAmount     otree.Currency `label:"How much do you want to send to participant B?" max:"10"`
	SentBackAmount otree.Currency `label:"How much do you want to send back?"`
}

// SentBackAmountChoices offers every whole amount from 0 to what B received.
func (g *Group) SentBackAmountChoices() []otree.Currency {
	return otree.CurrencyRange(otree.Cu(0), g.SentAmount.Mul(C.Multiplier), otree.Cu(1))
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
}

// Send is participant A's decision.
type Send struct{ otree.Page }

func (Send) FormModel() otree.FormModel { return otree.GroupForm }
func (Send) FormFields() []string       { return []string{"SentAmount"} }
func (Send) IsDisplayed(p *Player) bool { return p.IDInGroup() == 1 }

// WaitForP1 holds B until A has decided.
type WaitForP1 struct{ otree.WaitPage }

// SendBack is participant B's decision.
type SendBack struct{ otree.Page }

func (SendBack) FormModel() otree.FormModel { return otree.GroupForm }
func (SendBack) FormFields() []string       { return []string{"SentBackAmount"} }
func (SendBack) IsDisplayed(p *Player) bool { return p.IDInGroup() == 2 }

func (SendBack) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"TripledAmount": p.Group().SentAmount.Mul(C.Multiplier)}
}

// ResultsWaitPage waits for both, then computes payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	p1, p2 := g.PlayerByID(1), g.PlayerByID(2)
	p1.Payoff = C.Endowment.Sub(g.SentAmount).Add(g.SentBackAmount)
	p2.Payoff = g.SentAmount.Mul(C.Multiplier).Sub(g.SentBackAmount)
}

// Results shows what both did.
type Results struct{ otree.Page }

// App is the tutorial's trust game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "trust_simple",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages:           []otree.AnyPage{Send{}, WaitForP1{}, SendBack{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"offer_0", "offer_5", "offer_10"},
}
