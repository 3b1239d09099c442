// Package publicgoods is the public goods game with instructions: three
// players decide how much of their endowment to put into a common project,
// whose total is doubled and split equally among them.
package publicgoods

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C. A session
// config's "multiplier" parameter overrides Multiplier.
var C = struct {
	PlayersPerGroup int
	Endowment       otree.Currency
	Multiplier      float64
}{3, otree.Cu(100), 2}

// multiplier returns the session's multiplier.
func multiplier(s *otree.Session) float64 { return otree.Param(s, "multiplier", C.Multiplier) }

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
	Contribution otree.Currency `label:"How much will you contribute to the project (from 0 to 100)?" max:"100"`
}

// Introduction explains the game.
type Introduction struct{ otree.Page }

func (Introduction) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"Multiplier": multiplier(p.Session())}
}

// Contribute asks each player for a contribution.
type Contribute struct{ otree.Page }

func (Contribute) FormFields() []string { return []string{"Contribution"} }

// ResultsWaitPage waits for the group, then computes payoffs.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) BodyText() string { return "Waiting for other participants to contribute." }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	g.TotalContribution = otree.Sum(players, func(p *Player) otree.Currency { return p.Contribution })
	g.IndividualShare = g.TotalContribution.Mul(multiplier(g.Session())).Div(float64(len(players)))
	for _, p := range players {
		p.Payoff = C.Endowment.Sub(p.Contribution).Add(g.IndividualShare)
	}
}

// Results shows the outcome.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{
		"TotalEarnings": p.Group().TotalContribution.Mul(multiplier(p.Session())),
		"Multiplier":    multiplier(p.Session()),
	}
}

// App is the public goods game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "public_goods",
	PlayersPerGroup: C.PlayersPerGroup,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Contribute{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"basic", "min", "max", "uneven"},
}
