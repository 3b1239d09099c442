// Package publicgoodssimple is the tutorial's public goods game: three
// players each keep what they do not contribute and share the multiplied
// total of contributions equally.
package publicgoodssimple

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	PlayersPerGroup int
	Endowment       otree.Currency // what each player starts with
	Multiplier      float64        // scales the total before it is shared
}{3, otree.Cu(100), 1.8}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	TotalContribution otree.Currency
	IndividualShare   otree.Currency
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Contribution otree.Currency `label:"How much will you contribute?" max:"100"`
}

// Contribute asks each player for a contribution.
type Contribute struct{ otree.Page }

func (Contribute) FormFields() []string { return []string{"Contribution"} }

// ResultsWaitPage waits for the group, then computes payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	g.TotalContribution = otree.Sum(players, func(p *Player) otree.Currency { return p.Contribution })
	g.IndividualShare = g.TotalContribution.Mul(C.Multiplier).Div(float64(len(players)))
	for _, p := range players {
		p.Payoff = C.Endowment.Sub(p.Contribution).Add(g.IndividualShare)
	}
}

// Results shows the outcome.
type Results struct{ otree.Page }

// App is the public goods game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "public_goods_simple",
	PlayersPerGroup: C.PlayersPerGroup,
	Constants:       C,
	Pages:           []otree.AnyPage{Contribute{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"ones", "all_in", "nothing", "mixed", "one_point", "thirds"},
}
