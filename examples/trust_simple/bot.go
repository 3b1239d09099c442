package trustsimple

import "github.com/gotree/gotree/otree"

// A botCase is what A offers, what B returns and the payoffs that follow.
type botCase struct {
	offer, back      int
	payoff1, payoff2 int
}

// botCases are keyed by the names in App.BotCases.
var botCases = map[string]botCase{
	"offer_0":  {offer: 0, back: 0, payoff1: 10, payoff2: 0},
	"offer_5":  {offer: 5, back: 10, payoff1: 15, payoff2: 5},
	"offer_10": {offer: 10, back: 30, payoff1: 30, payoff2: 0},
}

// playRound plays the case. B first tries two amounts that are not on the
// list: −1 and one point more than B received.
func playRound(b *otree.Bot[Player]) {
	c := botCases[b.Case()]
	want := c.payoff1
	if b.Player().IDInGroup() == 1 {
		b.Submit(Send{}, otree.Values{"SentAmount": c.offer})
	} else {
		want = c.payoff2
		for _, invalid := range []int{-1, c.offer*3 + 1} {
			b.SubmitMustFail(SendBack{}, otree.Values{"SentBackAmount": invalid})
		}
		b.Submit(SendBack{}, otree.Values{"SentBackAmount": c.back})
	}
	b.Expect(b.Player().Payoff, otree.Cu(want))
	b.Submit(Results{})
}
