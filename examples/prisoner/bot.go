package prisoner

import (
	"time"

	"github.com/gotree/gotree/otree"
)

// A botCase is the two players' choices (true: cooperate), the sentence
// each must see and the payoffs that follow.
type botCase struct {
	cooperate [2]bool
	text      [2]string
	payoffs   [2]int
}

// botCases are keyed by the names in App.BotCases.
var botCases = map[string]botCase{
	"both_cooperate": {
		[2]bool{true, true},
		[2]string{"Both of you chose to Cooperate", "Both of you chose to Cooperate"},
		[2]int{200, 200},
	},
	"both_defect": {
		[2]bool{false, false},
		[2]string{"Both of you chose to Defect", "Both of you chose to Defect"},
		[2]int{100, 100},
	},
	"p1_defects": {
		[2]bool{false, true},
		[2]string{
			"You chose to Defect and the other participant chose to Cooperate",
			"You chose to Cooperate and the other participant chose to Defect",
		},
		[2]int{300, 0},
	},
}

// playRound reads the instructions, which run on a timer, presses one of
// the decision buttons and checks the results page and the payoff.
func playRound(b *otree.Bot[Player]) {
	c := botCases[b.Case()]
	i := b.Player().IDInGroup() - 1
	b.ExpectHTML(`class="otree-timer"`)
	if left := timeLeft(b.Participant()); left <= 90*time.Second || left > 100*time.Second {
		b.Fatalf("%v left on the introduction, want just under 100s", left)
	}
	b.Submit(Introduction{})
	b.Submit(Decision{}, otree.Values{"Cooperate": c.cooperate[i]})
	b.ExpectHTML(c.text[i])
	b.Expect(b.Player().Payoff, otree.Cu(c.payoffs[i]))
	b.Submit(Results{})
}

// timeLeft returns the time until the deadline of the participant's page,
// or 0 if the page has none.
func timeLeft(p *otree.Participant) time.Duration {
	if p.ExpiryAt == nil {
		return 0
	}
	return time.Until(*p.ExpiryAt)
}
