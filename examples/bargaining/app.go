// Package bargaining is the Nash demand game: two players each ask for a
// share of 100 points, and get what they asked for only if the two
// requests together fit in the 100.
package bargaining

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	AmountShared otree.Currency
}{otree.Cu(100)}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	TotalRequests otree.Currency
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Request otree.Currency `label:"Please enter an amount from 0 to 100" max:"100"`
}

// Introduction explains the game.
type Introduction struct{ otree.Page }

// Request asks for the amount.
type Request struct{ otree.Page }

func (Request) FormFields() []string { return []string{"Request"} }

// ResultsWaitPage waits for both players, then sets payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	g.TotalRequests = otree.Sum(players, func(p *Player) otree.Currency { return p.Request })
	if g.TotalRequests.Cmp(C.AmountShared) <= 0 {
		for _, p := range players {
			p.Payoff = p.Request
		}
	}
}

// Results shows both requests and the payoff.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{
		"Other": p.OthersInGroup()[0],
		"Fits":  p.Group().TotalRequests.Cmp(C.AmountShared) <= 0,
	}
}

// App is the bargaining game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "bargaining",
	PlayersPerGroup: 2,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Request{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"success", "greedy", "split_40_60", "over_by_one"},
}
