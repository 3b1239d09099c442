// Package matchingpennies is matching pennies over four rounds, a demo of
// rounds and regrouping: the Matcher wins when both pennies show the same
// side, the Mismatcher when they differ. The players swap roles after round
// 2, and one round, drawn at random, is paid.
package matchingpennies

import (
	"embed"
	"slices"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	NumRounds      int
	Stakes         otree.Currency
	MatcherRole    string
	MismatcherRole string
}{4, otree.Cu(100), "Matcher", "Mismatcher"}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

// CreatingSession draws the paying round, and swaps the players' roles from
// round 3 on by reversing each group.
func (s *Subsession) CreatingSession() {
	switch s.RoundNumber() {
	case 1:
		s.Session().Vars["paying_round"] = 1 + s.Rand().IntN(C.NumRounds)
	case 3:
		m := s.GroupMatrix()
		for _, row := range m {
			slices.Reverse(row)
		}
		if err := s.SetGroupMatrix(m); err != nil {
			panic(err)
		}
	case 4:
		if err := s.GroupLikeRound(3); err != nil {
			panic(err)
		}
	}
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	PennySide string `label:"I choose:" choices:"Heads,Tails" widget:"radio"`
	IsWinner  bool
}

// payingRound returns the round drawn for payment.
func payingRound(s *otree.Session) int {
	n, _ := otree.Get[int](s.Vars, "paying_round")
	return n
}

// Choice asks for a side and shows the earlier rounds.
type Choice struct{ otree.Page }

func (Choice) FormFields() []string { return []string{"PennySide"} }

func (Choice) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"History": p.InPreviousRounds()}
}

// ResultsWaitPage waits for both players, then finds the winner.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	matcher := g.PlayerByRole(C.MatcherRole)
	mismatcher := g.PlayerByRole(C.MismatcherRole)
	matcher.IsWinner = matcher.PennySide == mismatcher.PennySide
	mismatcher.IsWinner = !matcher.IsWinner
	for _, p := range g.Players() {
		if p.IsWinner && g.RoundNumber() == payingRound(g.Session()) {
			p.Payoff = C.Stakes
		}
	}
}

// ResultsSummary shows every round and the payment, after the last round.
type ResultsSummary struct{ otree.Page }

func (ResultsSummary) IsDisplayed(p *Player) bool { return p.RoundNumber() == C.NumRounds }

func (ResultsSummary) VarsForTemplate(p *Player) otree.Vars {
	rounds := p.InAllRounds()
	return otree.Vars{
		"Rounds":      rounds,
		"TotalPayoff": otree.Sum(rounds, func(p *Player) otree.Currency { return p.Payoff }),
		"PayingRound": payingRound(p.Session()),
	}
}

// App is matching pennies.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "matching_pennies",
	PlayersPerGroup: 2,
	NumRounds:       C.NumRounds,
	Roles:           []string{C.MatcherRole, C.MismatcherRole},
	Constants:       C,
	Pages:           []otree.AnyPage{Choice{}, ResultsWaitPage{}, ResultsSummary{}},
	Templates:       templates,
	Bot:             playRound,
}
