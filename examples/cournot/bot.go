package cournot

import "github.com/gotree/gotree/otree"

// A botCase is the units players 1 and 2 produce, the price that follows
// and their payoffs.
type botCase struct {
	units   [2]int
	price   int
	payoffs [2]int
}

// botCases are keyed by the names in App.BotCases.
var botCases = map[string]botCase{
	"min":        {[2]int{0, 0}, 60, [2]int{0, 0}},
	"max":        {[2]int{30, 30}, 0, [2]int{0, 0}},
	"asymmetric": {[2]int{10, 20}, 30, [2]int{300, 600}},
	"symmetric":  {[2]int{15, 15}, 30, [2]int{450, 450}},
}

// playRound produces the case's units and checks the price and payoff.
func playRound(b *otree.Bot[Player]) {
	c := botCases[b.Case()]
	i := b.Player().IDInGroup() - 1
	b.Submit(Introduction{})
	b.Submit(Decide{}, otree.Values{"Units": c.units[i]})

	p := b.Player()
	b.Expect(p.Group().UnitPrice, otree.Cu(c.price))
	b.Expect(p.Payoff, otree.Cu(c.payoffs[i]))
	b.Submit(Results{})
}
