package dictator

import "github.com/gotree/gotree/otree"

// playRound has player 1 keep 99 points, leaving 1 for player 2. Player 2's
// check runs once the wait page has let it through to Results.
func playRound(b *otree.Bot[Player]) {
	b.Submit(Introduction{})
	if b.Player().IDInGroup() == 1 {
		b.Submit(Offer{}, otree.Values{"Kept": 99})
		b.Expect(b.Player().Payoff, otree.Cu(99))
	} else {
		b.Expect(b.Player().Payoff, otree.Cu(1))
	}
	b.Submit(Results{})
}
