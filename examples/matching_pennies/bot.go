package matchingpennies

import "github.com/gotree/gotree/otree"

// playRound always chooses Heads, so the Matcher wins every round. It
// checks the roles (participant 1 is the Matcher in rounds 1 and 2 and the
// Mismatcher in rounds 3 and 4), the winner, and after the last round that
// exactly one player-round of the group earned the stakes.
func playRound(b *otree.Bot[Player]) {
	b.Submit(Choice{}, otree.Values{"PennySide": "Heads"})

	p := b.Player()
	wantRole := C.MismatcherRole
	if (p.IDInSubsession() == 1) == (b.Round() <= 2) {
		wantRole = C.MatcherRole
	}
	b.Expect(p.Role(), wantRole)
	b.Expect(p.IsWinner, p.Role() == C.MatcherRole)
	if n := payingRound(p.Session()); n < 1 || n > C.NumRounds {
		b.Fatalf("paying round %d, want one of 1 to %d", n, C.NumRounds)
	}
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
