package otree

import (
	"fmt"
	"math/rand/v2"
	"reflect"
)

// rowCore holds the columns every model row has, and its link to the request
// that loaded it.
type rowCore struct {
	id, sessionID int64
	round         int
	st            *rowState
}

type groupCore struct {
	rowCore
	subsessionID   int64
	idInSubsession int
}

type playerCore struct {
	rowCore
	participantID, subsessionID, groupID int64
	idInGroup, idInSubsession            int
	role                                 string
}

// model is implemented by pointers to every experimenter model through the
// embedded base type.
type model interface {
	core() *rowCore
}

type playerModel interface {
	model
	pcore() *playerCore
	payoffField() *Currency
}

type groupModel interface {
	model
	gcore() *groupCore
}

// state returns the row's request state, failing clearly when a model is
// used after the request that loaded it has ended.
func (c *rowCore) state() *rowState {
	if c.st == nil || c.st.tx == nil || c.st.tx.done {
		panic("otree: a model was used outside the hook or bot call that loaded it")
	}
	return c.st
}

// field finds the field that ptr, a pointer into the model, points to.
func (c *rowCore) field(ptr any, method string) (*rowState, *fieldSpec) {
	st := c.state()
	pv := reflect.ValueOf(ptr)
	if pv.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("otree: %s needs a pointer to a field, such as &p.Contribution", method))
	}
	off := pv.Pointer() - st.self.Pointer()
	for _, f := range st.tbl.schema.fields {
		sf := st.tbl.schema.typ.FieldByIndex(f.index)
		if sf.Offset == off && sf.Type == pv.Type().Elem() {
			return st, f
		}
	}
	panic(fmt.Sprintf("otree: %s: %s has no field at that address", method, st.tbl.schema.name))
}

// isSet reports whether the field at ptr holds a value.
func (c *rowCore) isSet(ptr any) bool {
	st, f := c.field(ptr, "IsSet")
	return st.isSet(f.pos)
}

// fieldDisplay returns the label of the field's value among its choices.
func (c *rowCore) fieldDisplay(ptr any) string {
	st, f := c.field(ptr, "FieldDisplay")
	if !st.isSet(f.pos) {
		return ""
	}
	x := f.get(st.self.Elem())
	for _, ch := range f.rulesFor(st.self).choices {
		if compare(ch.value, x) == 0 {
			return ch.label
		}
	}
	return display(x)
}

// A BasePlayer is embedded in an app's Player struct. Its type parameters
// are the app's own Subsession, Group and Player types, so that navigation
// returns them directly:
//
//	type Player struct {
//		otree.BasePlayer[Subsession, Group, Player]
//		Contribution otree.Currency
//	}
//
// Payoff is the player's payoff in this round. Changing it changes the
// participant's total payoff by the same amount.
//
// The methods of a player are valid during the hook or bot call that
// received it. They load related rows on first use and return the same
// pointers on later calls within that hook.
type BasePlayer[S, G, P any] struct {
	pc     playerCore
	Payoff Currency
}

func (b *BasePlayer[S, G, P]) core() *rowCore         { return &b.pc.rowCore }
func (b *BasePlayer[S, G, P]) pcore() *playerCore     { return &b.pc }
func (b *BasePlayer[S, G, P]) payoffField() *Currency { return &b.Payoff }

// IDInGroup returns the player's position in its group, from 1.
func (b *BasePlayer[S, G, P]) IDInGroup() int { return b.pc.idInGroup }

// IDInSubsession returns the participant's position in the session, from 1.
func (b *BasePlayer[S, G, P]) IDInSubsession() int { return b.pc.idInSubsession }

// RoundNumber returns the round this player belongs to, from 1.
func (b *BasePlayer[S, G, P]) RoundNumber() int { return b.pc.round }

// Role returns the player's role: the app's Roles entry for its IDInGroup,
// or "" if the app names fewer roles.
func (b *BasePlayer[S, G, P]) Role() string { return b.pc.role }

// Group returns the player's group in this round.
func (b *BasePlayer[S, G, P]) Group() *G {
	st := b.pc.state()
	return st.tx.groupByID(st.tbl.app, b.pc.groupID).(*G)
}

// Subsession returns the player's subsession in this round.
func (b *BasePlayer[S, G, P]) Subsession() *S {
	st := b.pc.state()
	return st.tx.subsession(st.tbl.app, b.pc.round).(*S)
}

// Participant returns the participant this player belongs to. Its Payoff
// includes the changes to this request's players' payoffs so far.
func (b *BasePlayer[S, G, P]) Participant() *Participant {
	t := b.pc.state().tx
	p := t.participant(b.pc.participantID)
	t.syncPayoffs(p)
	return p
}

// Session returns the player's session.
func (b *BasePlayer[S, G, P]) Session() *Session {
	return b.pc.state().tx.sessionByID(b.pc.sessionID)
}

// OthersInGroup returns the other players of the player's group, ordered by
// IDInGroup.
func (b *BasePlayer[S, G, P]) OthersInGroup() []*P {
	st := b.pc.state()
	return others[P](st.tx.groupPlayers(st.tbl.app, b.pc.groupID), b.pc.id)
}

// OthersInSubsession returns the other players of this round, ordered by
// IDInSubsession.
func (b *BasePlayer[S, G, P]) OthersInSubsession() []*P {
	st := b.pc.state()
	return others[P](st.tx.subsessionPlayers(st.tbl.app, b.pc.round), b.pc.id)
}

// InRound returns this participant's player in round n of the app. It
// panics if n is not between 1 and the app's number of rounds.
func (b *BasePlayer[S, G, P]) InRound(n int) *P {
	st := b.pc.state()
	st.tbl.app.checkRound(n)
	return st.tx.player(st.tbl.app, b.pc.participantID, n).(*P)
}

// InRounds returns this participant's players in rounds first to last.
func (b *BasePlayer[S, G, P]) InRounds(first, last int) []*P {
	out := make([]*P, 0, max(last-first+1, 0))
	for n := first; n <= last; n++ {
		out = append(out, b.InRound(n))
	}
	return out
}

// InPreviousRounds returns this participant's players in rounds before this
// one, oldest first.
func (b *BasePlayer[S, G, P]) InPreviousRounds() []*P { return b.InRounds(1, b.pc.round-1) }

// InAllRounds returns this participant's players up to and including this
// round, oldest first.
func (b *BasePlayer[S, G, P]) InAllRounds() []*P { return b.InRounds(1, b.pc.round) }

// IsSet reports whether the field that field points to has been given a
// value, as in p.IsSet(&p.Contribution). A form field is unset until the
// participant submits it.
func (b *BasePlayer[S, G, P]) IsSet(field any) bool { return b.pc.isSet(field) }

// FieldDisplay returns the label of the field's value among its choices,
// as in p.FieldDisplay(&p.Cooperate), or the value itself if it has no
// choices; "" if the field is unset.
func (b *BasePlayer[S, G, P]) FieldDisplay(field any) string { return b.pc.fieldDisplay(field) }

// Rand returns the random source of the running hook. Its draws depend only
// on the session's seed and on where the hook runs (app, round, page and
// player), so a session created with the same seed draws the same numbers.
func (b *BasePlayer[S, G, P]) Rand() *rand.Rand {
	st := b.pc.state()
	return st.tx.rand(st.tbl.app, b.pc.round, "player", int64(b.pc.idInSubsession))
}

// A BaseGroup is embedded in an app's Group struct, with the same type
// parameters as [BasePlayer].
type BaseGroup[S, G, P any] struct {
	gc groupCore
}

func (b *BaseGroup[S, G, P]) core() *rowCore    { return &b.gc.rowCore }
func (b *BaseGroup[S, G, P]) gcore() *groupCore { return &b.gc }

// IDInSubsession returns the group's number in its round, from 1.
func (b *BaseGroup[S, G, P]) IDInSubsession() int { return b.gc.idInSubsession }

// RoundNumber returns the round this group belongs to.
func (b *BaseGroup[S, G, P]) RoundNumber() int { return b.gc.round }

// Players returns the group's players ordered by IDInGroup.
func (b *BaseGroup[S, G, P]) Players() []*P {
	st := b.gc.state()
	return typed[P](st.tx.groupPlayers(st.tbl.app, b.gc.id))
}

// PlayerByID returns the player whose IDInGroup is id. It panics if the
// group has no such player, as oTree raises an error.
func (b *BaseGroup[S, G, P]) PlayerByID(id int) *P {
	for _, p := range b.Players() {
		if any(p).(playerModel).pcore().idInGroup == id {
			return p
		}
	}
	panic(fmt.Sprintf("otree: group %d has no player with IDInGroup %d", b.gc.idInSubsession, id))
}

// PlayerByRole returns the player with the given role. It panics if no
// player of the group has it.
func (b *BaseGroup[S, G, P]) PlayerByRole(role string) *P {
	for _, p := range b.Players() {
		if any(p).(playerModel).pcore().role == role {
			return p
		}
	}
	panic(fmt.Sprintf("otree: group %d has no player with role %q", b.gc.idInSubsession, role))
}

// Subsession returns the group's subsession.
func (b *BaseGroup[S, G, P]) Subsession() *S {
	st := b.gc.state()
	return st.tx.subsession(st.tbl.app, b.gc.round).(*S)
}

// Session returns the group's session.
func (b *BaseGroup[S, G, P]) Session() *Session {
	return b.gc.state().tx.sessionByID(b.gc.sessionID)
}

// IsSet reports whether the field that field points to has been given a
// value, as in g.IsSet(&g.SentAmount).
func (b *BaseGroup[S, G, P]) IsSet(field any) bool { return b.gc.isSet(field) }

// FieldDisplay returns the label of the field's value among its choices.
func (b *BaseGroup[S, G, P]) FieldDisplay(field any) string { return b.gc.fieldDisplay(field) }

// InRound returns the group of round n made of the same participants. It
// panics if they were not one group in round n: after regrouping, a group's
// earlier rounds may not exist.
func (b *BaseGroup[S, G, P]) InRound(n int) *G {
	st := b.gc.state()
	st.tbl.app.checkRound(n)
	return st.tx.sameGroupInRound(st.tbl.app, b.gc.id, n).(*G)
}

// InRounds returns the group's counterparts in rounds first to last.
func (b *BaseGroup[S, G, P]) InRounds(first, last int) []*G {
	out := make([]*G, 0, max(last-first+1, 0))
	for n := first; n <= last; n++ {
		out = append(out, b.InRound(n))
	}
	return out
}

// InPreviousRounds returns the group's counterparts in earlier rounds.
func (b *BaseGroup[S, G, P]) InPreviousRounds() []*G { return b.InRounds(1, b.gc.round-1) }

// InAllRounds returns the group's counterparts up to and including this
// round.
func (b *BaseGroup[S, G, P]) InAllRounds() []*G { return b.InRounds(1, b.gc.round) }

// Rand returns the random source of the running hook, seeded from the
// session's seed and the group's place, as [BasePlayer.Rand].
func (b *BaseGroup[S, G, P]) Rand() *rand.Rand {
	st := b.gc.state()
	return st.tx.rand(st.tbl.app, b.gc.round, "group", int64(b.gc.idInSubsession))
}

// A BaseSubsession is embedded in an app's Subsession struct, with the same
// type parameters as [BasePlayer].
type BaseSubsession[S, G, P any] struct {
	sc rowCore
}

func (b *BaseSubsession[S, G, P]) core() *rowCore { return &b.sc }

// RoundNumber returns the subsession's round.
func (b *BaseSubsession[S, G, P]) RoundNumber() int { return b.sc.round }

// Session returns the subsession's session.
func (b *BaseSubsession[S, G, P]) Session() *Session {
	return b.sc.state().tx.sessionByID(b.sc.sessionID)
}

// Groups returns the round's groups ordered by IDInSubsession.
func (b *BaseSubsession[S, G, P]) Groups() []*G {
	st := b.sc.state()
	return typed[G](st.tx.subsessionGroups(st.tbl.app, b.sc.round))
}

// Players returns the round's players ordered by IDInSubsession.
func (b *BaseSubsession[S, G, P]) Players() []*P {
	st := b.sc.state()
	return typed[P](st.tx.subsessionPlayers(st.tbl.app, b.sc.round))
}

// InRound returns the app's subsession of round n.
func (b *BaseSubsession[S, G, P]) InRound(n int) *S {
	st := b.sc.state()
	st.tbl.app.checkRound(n)
	return st.tx.subsession(st.tbl.app, n).(*S)
}

// InPreviousRounds returns the app's subsessions before this round.
func (b *BaseSubsession[S, G, P]) InPreviousRounds() []*S {
	out := make([]*S, 0, b.sc.round-1)
	for n := 1; n < b.sc.round; n++ {
		out = append(out, b.InRound(n))
	}
	return out
}

// InAllRounds returns the app's subsessions up to and including this round.
func (b *BaseSubsession[S, G, P]) InAllRounds() []*S {
	return append(b.InPreviousRounds(), b.InRound(b.sc.round))
}

// IsSet reports whether the field that field points to has been given a
// value.
func (b *BaseSubsession[S, G, P]) IsSet(field any) bool { return b.sc.isSet(field) }

// Rand returns the random source of the running hook, seeded from the
// session's seed and the round, as [BasePlayer.Rand].
func (b *BaseSubsession[S, G, P]) Rand() *rand.Rand {
	st := b.sc.state()
	return st.tx.rand(st.tbl.app, b.sc.round, "subsession", 0)
}

// GroupMatrix returns the round's groups as rows of players' IDInSubsession
// numbers, each row ordered by IDInGroup.
func (b *BaseSubsession[S, G, P]) GroupMatrix() [][]int {
	st := b.sc.state()
	return st.tx.groupMatrix(st.tbl.app, b.sc.round)
}

// SetGroupMatrix regroups the round's players: each row of m becomes a group
// whose players, in row order, get IDInGroup 1, 2, … and the matching roles.
// m must hold every IDInSubsession of the round exactly once. Group rows
// keep their identity where possible; group fields are kept with the group
// number they belonged to.
func (b *BaseSubsession[S, G, P]) SetGroupMatrix(m [][]int) error {
	st := b.sc.state()
	return st.tx.setGroupMatrix(st.tbl.app, b.sc.round, m)
}

// GroupRandomly shuffles the round's players into groups of the app's size,
// using the session's seeded random source. With fixedIDInGroup, players
// keep their IDInGroup (and so their role) and only change partners.
func (b *BaseSubsession[S, G, P]) GroupRandomly(fixedIDInGroup bool) error {
	st := b.sc.state()
	return st.tx.groupRandomly(st.tbl.app, b.sc.round, fixedIDInGroup)
}

// GroupLikeRound copies the grouping of round n to this round.
func (b *BaseSubsession[S, G, P]) GroupLikeRound(n int) error {
	st := b.sc.state()
	st.tbl.app.checkRound(n)
	return st.tx.setGroupMatrix(st.tbl.app, b.sc.round, st.tx.groupMatrix(st.tbl.app, n))
}

func typed[T any](list []any) []*T {
	out := make([]*T, len(list))
	for i, m := range list {
		out[i] = m.(*T)
	}
	return out
}

func others[P any](list []any, selfID int64) []*P {
	out := make([]*P, 0, len(list))
	for _, m := range list {
		if m.(model).core().id != selfID {
			out = append(out, m.(*P))
		}
	}
	return out
}
