// Package guesstwothirds is the Keynesian beauty contest: three players
// each guess a number from 0 to 100, and whoever is closest to two thirds
// of the average guess wins the jackpot. It is played for three rounds.
package guesstwothirds

import (
	"embed"
	"math"
	"slices"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

// C holds the game's constants; templates see them as .C.
var C = struct {
	PlayersPerGroup int
	NumRounds       int
	Jackpot         otree.Currency
	GuessMax        int
}{3, 3, otree.Cu(100), 100}

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	TwoThirdsAvg float64
	BestGuess    int
	NumWinners   int
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Guess    int `label:"Please pick a number from 0 to 100:" max:"100"`
	IsWinner bool
}

// Introduction explains the game, in the first round only.
type Introduction struct{ otree.Page }

func (Introduction) IsDisplayed(p *Player) bool { return p.RoundNumber() == 1 }

// Guess asks for a number and shows the targets of earlier rounds.
type Guess struct{ otree.Page }

func (Guess) FormFields() []string { return []string{"Guess"} }

func (Guess) VarsForTemplate(p *Player) otree.Vars {
	return otree.Vars{"History": p.Group().InPreviousRounds()}
}

// ResultsWaitPage waits for the group, then finds the winners.
type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	sum := 0
	for _, p := range players {
		sum += p.Guess
	}
	twoThirds := 2.0 / 3 * float64(sum) / float64(len(players))
	g.TwoThirdsAvg = math.Round(twoThirds*100) / 100 // to 2 decimals

	// The closest guess wins; on a tie in distance the earlier player's
	// guess counts, as players are in IDInGroup order.
	g.BestGuess = players[0].Guess
	for _, p := range players[1:] {
		if distance(p.Guess, g.TwoThirdsAvg) < distance(g.BestGuess, g.TwoThirdsAvg) {
			g.BestGuess = p.Guess
		}
	}
	var winners []*Player
	for _, p := range players {
		if p.Guess == g.BestGuess {
			winners = append(winners, p)
		}
	}
	g.NumWinners = len(winners)
	for _, p := range winners {
		p.IsWinner = true
		p.Payoff = C.Jackpot.Div(float64(g.NumWinners))
	}
}

func distance(guess int, target float64) float64 { return math.Abs(float64(guess) - target) }

// Results shows all guesses and who won.
type Results struct{ otree.Page }

func (Results) VarsForTemplate(p *Player) otree.Vars {
	var guesses []int
	for _, q := range p.Group().Players() {
		guesses = append(guesses, q.Guess)
	}
	slices.Sort(guesses)
	return otree.Vars{"SortedGuesses": guesses}
}

// App is the guessing game.
var App = &otree.App[Subsession, Group, Player]{
	Name:            "guess_two_thirds",
	PlayersPerGroup: C.PlayersPerGroup,
	NumRounds:       C.NumRounds,
	Constants:       C,
	Pages:           []otree.AnyPage{Introduction{}, Guess{}, ResultsWaitPage{}, Results{}},
	Templates:       templates,
	Bot:             playRound,
	BotCases:        []string{"p1_wins", "p1_and_p2_win"},
}
