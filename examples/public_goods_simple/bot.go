package publicgoodssimple

import "github.com/gotree/gotree/otree"

// A botCase is one row of the acceptance table: the contributions of
// players 1 to 3, and the group totals and payoffs they must produce.
type botCase struct {
	contributions [3]int
	total, share  int
	payoffs       [3]int
}

// botCases are keyed by the names in App.BotCases. Currency rounds at every
// step, so (1,1,1) shares 2 points, not the 1.8 exact arithmetic gives.
var botCases = map[string]botCase{
	"ones":      {[3]int{1, 1, 1}, 3, 2, [3]int{101, 101, 101}},
	"all_in":    {[3]int{100, 100, 100}, 300, 180, [3]int{180, 180, 180}},
	"nothing":   {[3]int{0, 0, 0}, 0, 0, [3]int{100, 100, 100}},
	"mixed":     {[3]int{10, 20, 30}, 60, 36, [3]int{126, 116, 106}},
	"one_point": {[3]int{1, 0, 0}, 1, 1, [3]int{100, 101, 101}},
	"thirds":    {[3]int{33, 33, 34}, 100, 60, [3]int{127, 127, 126}},
}

// playRound contributes the case's amount for this player and checks the
// group's totals and the payoff. In the first case, player 1 also tries
// amounts outside 0 to 100.
func playRound(b *otree.Bot[Player]) {
	c := botCases[b.Case()]
	i := b.Player().IDInGroup() - 1
	if b.Case() == "ones" && i == 0 {
		b.SubmitMustFail(Contribute{}, otree.Values{"Contribution": -1})
		b.SubmitMustFail(Contribute{}, otree.Values{"Contribution": 101})
	}
	b.Submit(Contribute{}, otree.Values{"Contribution": c.contributions[i]})

	p := b.Player()
	b.Expect(p.Group().TotalContribution, otree.Cu(c.total))
	b.Expect(p.Group().IndividualShare, otree.Cu(c.share))
	b.Expect(p.Payoff, otree.Cu(c.payoffs[i]))
	b.Submit(Results{})
}
