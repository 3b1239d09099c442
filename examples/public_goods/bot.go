package publicgoods

import "github.com/gotree/gotree/otree"

// contributions are the amounts players 1 to 3 give in each case, and
// payoffs what they must earn. In "uneven" the share of 20 is 20/3, which
// rounds to 7 points.
var (
	contributions = map[string][3]int{
		"basic": {50, 50, 50}, "min": {0, 0, 0}, "max": {100, 100, 100}, "uneven": {10, 0, 0},
	}
	payoffs = map[string][3]int{
		"basic": {150, 150, 150}, "min": {100, 100, 100}, "max": {200, 200, 200},
		"uneven": {97, 107, 107},
	}
)

// playRound reads the instructions, contributes and checks the payoff. In
// the basic case player 1 first tries amounts outside 0 to 100.
func playRound(b *otree.Bot[Player]) {
	i := b.Player().IDInGroup() - 1
	b.Submit(Introduction{})
	if b.Case() == "basic" && i == 0 {
		b.SubmitMustFail(Contribute{}, otree.Values{"Contribution": -1})
		b.SubmitMustFail(Contribute{}, otree.Values{"Contribution": 101})
	}
	b.Submit(Contribute{}, otree.Values{"Contribution": contributions[b.Case()][i]})

	p := b.Player()
	b.Expect(p.Payoff, otree.Cu(payoffs[b.Case()][i]))
	c := contributions[b.Case()]
	b.ExpectHTML("The project earned " + otree.Cu(2*(c[0]+c[1]+c[2])).String() + ",")
	b.Submit(Results{})
}
