package guesstwothirds

import "github.com/gotree/gotree/otree"

// A botCase is what players 1 to 3 guess in every round, the two-thirds
// average that follows, and per player the round's payoff, the sentence
// the results page must show and the total over the three rounds.
type botCase struct {
	guesses [3]int
	target  float64
	payoffs [3]int
	text    [3]string
	totals  [3]int
}

// botCases are keyed by the names in App.BotCases.
var botCases = map[string]botCase{
	"p1_wins": {
		guesses: [3]int{9, 10, 10},
		target:  6.44,
		payoffs: [3]int{100, 0, 0},
		text:    [3]string{"you win", "you did not win", "you did not win"},
		totals:  [3]int{300, 0, 0},
	},
	"p1_and_p2_win": {
		guesses: [3]int{9, 9, 10},
		target:  6.22,
		payoffs: [3]int{50, 50, 0},
		text: [3]string{
			"you are one of the 2 winners", "you are one of the 2 winners", "you did not win",
		},
		totals: [3]int{150, 150, 0},
	},
}

// playRound guesses the case's number and checks the outcome of the round,
// and after the last round the participant's total. In p1_wins player 1
// first tries numbers outside 0 to 100.
func playRound(b *otree.Bot[Player]) {
	c := botCases[b.Case()]
	i := b.Player().IDInGroup() - 1
	if b.Round() == 1 {
		b.Submit(Introduction{})
	}
	if b.Case() == "p1_wins" && i == 0 {
		b.SubmitMustFail(Guess{}, otree.Values{"Guess": -1})
		b.SubmitMustFail(Guess{}, otree.Values{"Guess": 101})
	}
	b.Submit(Guess{}, otree.Values{"Guess": c.guesses[i]})

	p := b.Player()
	b.Expect(p.Group().TwoThirdsAvg, c.target)
	b.Expect(p.Payoff, otree.Cu(c.payoffs[i]))
	b.Expect(p.IsWinner, c.payoffs[i] > 0)
	b.ExpectHTML(c.text[i])
	if b.Round() == C.NumRounds {
		b.Expect(b.Participant().Payoff, otree.Cu(c.totals[i]))
	}
	b.Submit(Results{})
}
