package bargaining

import "github.com/gotree/gotree/otree"

// requests are what players 1 and 2 ask for in each case, and payoffs
// what they must get.
var (
	requests = map[string][2]int{
		"success": {10, 10}, "greedy": {100, 100}, "split_40_60": {40, 60}, "over_by_one": {50, 51},
	}
	payoffs = map[string][2]int{
		"success": {10, 10}, "greedy": {0, 0}, "split_40_60": {40, 60}, "over_by_one": {0, 0},
	}
)

// playRound makes the case's request and, once past Results, checks the
// payoff.
func playRound(b *otree.Bot[Player]) {
	i := b.Player().IDInGroup() - 1
	b.Submit(Introduction{})
	b.Submit(Request{}, otree.Values{"Request": requests[b.Case()][i]})
	b.Submit(Results{})
	b.Expect(b.Player().Payoff, otree.Cu(payoffs[b.Case()][i]))
}
