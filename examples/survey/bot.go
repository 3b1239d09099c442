package survey

import "github.com/gotree/gotree/otree"

// playRound answers both pages, after trying ages just outside 13 to 125.
func playRound(b *otree.Bot[Player]) {
	for _, age := range []int{12, 126} {
		b.SubmitMustFail(Demographics{}, otree.Values{"Age": age, "Gender": "Male"}, "Age")
	}
	b.Submit(Demographics{}, otree.Values{"Age": 24, "Gender": "Male"})
	b.Submit(CognitiveReflectionTest{}, otree.Values{"CrtBat": 10, "CrtWidget": 5, "CrtLake": 48})

	p := b.Player()
	b.Expect(p.IsSet(&p.CrtBat), true)
	b.Expect(p.CrtBat, 10)
	b.Expect(p.Payoff, otree.Cu(0))
}
