package otree

import (
	"errors"
	"fmt"
	"slices"
)

// ErrGroupMatrix is returned by SetGroupMatrix and its relatives when the
// matrix is not a partition of the round's players.
var ErrGroupMatrix = errors.New("otree: invalid group matrix")

// groupMatrix returns a round's grouping as rows of IDInSubsession numbers.
func (t *txn) groupMatrix(app *appSpec, round int) [][]int {
	var m [][]int
	for _, g := range t.subsessionGroups(app, round) {
		var row []int
		for _, p := range t.groupPlayers(app, g.(model).core().id) {
			row = append(row, p.(playerModel).pcore().idInSubsession)
		}
		m = append(m, row)
	}
	return m
}

// checkMatrix reports whether m holds each of 1..n exactly once.
func checkMatrix(m [][]int, n int) error {
	seen := make([]bool, n+1)
	count := 0
	for _, row := range m {
		if len(row) == 0 {
			return fmt.Errorf("%w: a group is empty", ErrGroupMatrix)
		}
		for _, id := range row {
			if id < 1 || id > n || seen[id] {
				return fmt.Errorf("%w: %v must hold each player 1 to %d exactly once",
					ErrGroupMatrix, m, n)
			}
			seen[id] = true
			count++
		}
	}
	if count != n {
		return fmt.Errorf("%w: %v must hold each player 1 to %d exactly once", ErrGroupMatrix, m, n)
	}
	return nil
}

// setGroupMatrix regroups a round. Group rows are reused by position; rows
// are added or removed when the number of groups changes. Changes are
// written at once so later queries see them.
func (t *txn) setGroupMatrix(app *appSpec, round int, m [][]int) error {
	t.needWrite()
	players := t.subsessionPlayers(app, round)
	if err := checkMatrix(m, len(players)); err != nil {
		return err
	}
	groups := t.subsessionGroups(app, round)
	for len(groups) < len(m) {
		groups = append(groups, t.insertGroup(app, round, len(groups)+1))
	}
	for _, g := range groups[len(m):] {
		must(t.q.exec(fmt.Sprintf("DELETE FROM %s WHERE id = ?", quote(app.group.name)),
			g.(model).core().id))
	}
	groups = groups[:len(m)]
	for gi, row := range m {
		gid := groups[gi].(model).core().id
		for pos, idInSub := range row {
			t.moveToGroup(app, players[idInSub-1], gid, pos+1)
		}
	}
	t.forgetGroups(app, round)
	return nil
}

// moveToGroup puts player p into group gid at position pos.
func (t *txn) moveToGroup(app *appSpec, p any, gid int64, pos int) {
	pc := p.(playerModel).pcore()
	role := ""
	if pos <= len(app.roles) {
		role = app.roles[pos-1]
	}
	if pc.groupID == gid && pc.idInGroup == pos && pc.role == role {
		return
	}
	pc.groupID, pc.idInGroup, pc.role = gid, pos, role
	q := fmt.Sprintf("UPDATE %s SET group_id = ?, id_in_group = ?, role = ? WHERE id = ?",
		quote(app.player.name))
	must(t.q.exec(q, gid, pos, role, pc.id))
}

func (t *txn) insertGroup(app *appSpec, round, idInSub int) any {
	sub := t.subsession(app, round).(model).core()
	q := fmt.Sprintf("INSERT INTO %s (session_id, round_number, subsession_id, id_in_subsession) "+
		"VALUES (?, ?, ?, ?) RETURNING id", quote(app.group.name))
	var id int64
	must(t.q.scalar(&id, q, sub.sessionID, round, sub.id, idInSub))
	return t.groupByID(app, id)
}

// forgetGroups drops cached group memberships of a round after regrouping.
func (t *txn) forgetGroups(app *appSpec, round int) {
	key := roundKey{app, t.sessionOf(), round}
	delete(t.roundGroups, key)
	for k := range t.groupMembers {
		if k.tbl == app.group {
			delete(t.groupMembers, k)
		}
	}
}

// groupRandomly shuffles a round's players with the session's seeded
// random source.
func (t *txn) groupRandomly(app *appSpec, round int, fixedIDInGroup bool) error {
	m := t.groupMatrix(app, round)
	for _, row := range m {
		if len(row) != len(m[0]) {
			return fmt.Errorf("%w: GroupRandomly needs groups of equal size", ErrGroupMatrix)
		}
	}
	r := t.rand(app, round, "group_randomly", 0)
	if fixedIDInGroup {
		for col := range m[0] {
			perm := r.Perm(len(m))
			column := make([]int, len(m))
			for i := range m {
				column[i] = m[perm[i]][col]
			}
			for i := range m {
				m[i][col] = column[i]
			}
		}
		return t.setGroupMatrix(app, round, m)
	}
	flat := slices.Concat(m...)
	r.Shuffle(len(flat), func(i, j int) { flat[i], flat[j] = flat[j], flat[i] })
	size := len(m[0])
	for i := range m {
		m[i] = flat[i*size : (i+1)*size]
	}
	return t.setGroupMatrix(app, round, m)
}

// sameGroupInRound returns the group of round n whose members are the
// participants of group gid, or fails if they were not one group then.
func (t *txn) sameGroupInRound(app *appSpec, gid int64, n int) any {
	members := t.groupPlayers(app, gid)
	g := t.groupByID(app, gid)
	if g.(model).core().round == n {
		return g
	}
	want := participantIDs(members)
	first := t.player(app, members[0].(playerModel).pcore().participantID, n)
	other := first.(playerModel).pcore().groupID
	if !slices.Equal(want, participantIDs(t.groupPlayers(app, other))) {
		panic(fmt.Sprintf("otree: group %d of round %d was not made of the same participants in "+
			"round %d, because players were regrouped; reach earlier rounds through "+
			"each player's InRound instead", g.(groupModel).gcore().idInSubsession,
			g.(model).core().round, n))
	}
	return t.groupByID(app, other)
}

func participantIDs(players []any) []int64 {
	ids := make([]int64, len(players))
	for i, p := range players {
		ids[i] = p.(playerModel).pcore().participantID
	}
	slices.Sort(ids)
	return ids
}
