package trust

import "github.com/gotree/gotree/otree"

// playRound has player 1 send 4 points, which arrive as 12, and player 2
// return 8, so player 1 ends with 100 − 4 + 8 = 104 and player 2 with
// 12 − 8 = 4. Each first tries amounts the form must refuse.
func playRound(b *otree.Bot[Player]) {
	b.Submit(Introduction{})
	if b.Player().IDInGroup() == 1 {
		b.SubmitMustFail(Send{}, otree.Values{"SentAmount": -1})
		b.SubmitMustFail(Send{}, otree.Values{"SentAmount": 101})
		b.Submit(Send{}, otree.Values{"SentAmount": 4})
		b.Expect(b.Player().Payoff, otree.Cu(104))
	} else {
		b.ExpectHTML(`you now have <strong id="tripled-amount">12 points</strong>`)
		b.SubmitMustFail(SendBack{}, otree.Values{"SentBackAmount": -1})
		b.SubmitMustFail(SendBack{}, otree.Values{"SentBackAmount": 13})
		b.Submit(SendBack{}, otree.Values{"SentBackAmount": 8})
		b.Expect(b.Player().Payoff, otree.Cu(4))
	}
	b.Submit(Results{})
}
