package matchingpennies

import "github.com/gotree/gotree/otree"

// playRound always chooses Heads, so the Matcher wins every round. It
// checks the roles (participant 1 is the Matcher in rounds 1 and 2 and the
// Mismatcher in rounds 3 and 4), the winner, and after the last round that
// exactly one player-round of the group earned the stakes.
func playRound(b *otree.Bot[Player]) {
	b.Submit(Choice{}, otree.Values{"PennySide": "Heads"})

	p := b.Player()
	firstHalf := b.Round() <= 2
	wantMatcher := (p.IDInSubsession() == 1) == firstHalf
	b.Expect(p.Role() == C.MatcherRole, wantMatcher)
	b.Expect(p.IsWinner, p.Role() == C.MatcherRole)
	if b.Round() < C.NumRounds {
		return
	}

	total := otree.Cu(0)
	for _, q := range p.Group().Players() {
		total = total.Add(otree.Sum(q.InAllRounds(), func(r *Player) otree.Currency { return r.Payoff }))
	}
	b.Expect(total, otree.Cu(100))
	b.Submit(ResultsSummary{})
}
