package otree

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A txn is one request's unit of work: the database transaction, every row
// it loaded (each once, so hooks share pointers), and what to do after the
// commit. A txn is used by one goroutine.
type txn struct {
	ctx       context.Context
	e         *engine
	gormDB    func() *gorm.DB // gorm over the same transaction, for what is not hot
	gdb       *gorm.DB        // made by gormDB on first use
	q         runner          // prepared statements, for what is
	write     bool
	done      bool
	sessionID int64 // the session the request works on

	byID         map[rowKey]*rowState
	players      map[playerKey]*rowState
	subsessions  map[roundKey]*rowState
	groupMembers map[rowKey][]any
	roundGroups  map[roundKey][]any
	roundPlayers map[roundKey][]any
	states       []*rowState

	participants map[int64]*Participant
	sessions     map[int64]*Session
	sessionParts map[int64][]*Participant

	doneWaits map[waitID]bool // wait pages known to be complete

	hook  hookSite // the running hook, for errors and random seeds
	rngs  map[string]*rand.Rand
	after []func(ctx context.Context)
}

type rowKey struct {
	tbl *table
	id  int64
}

type playerKey struct {
	app           *appSpec
	participantID int64
	round         int
}

type roundKey struct {
	app       *appSpec
	sessionID int64
	round     int
}

// dbError carries a database error out of model navigation, which has no
// error result; the transaction runner turns it back into an error.
type dbError struct{ err error }

// A HookError reports a panic in an experimenter's hook: which app, page and
// hook, and the stack.
type HookError struct {
	Hook  string // such as "public_goods/Contribute.BeforeNextPage"
	Value any    // the value passed to panic
	Stack []byte
}

func (e *HookError) Error() string {
	return fmt.Sprintf("%s: panic: %v", e.Hook, e.Value)
}

func newTxn(ctx context.Context, e *engine, db func() *gorm.DB, q runner, write bool) *txn {
	return &txn{
		ctx: ctx, e: e, gormDB: db, q: q, write: write,
		byID:         map[rowKey]*rowState{},
		players:      map[playerKey]*rowState{},
		participants: map[int64]*Participant{},
	}
}

// db returns gorm over the txn's transaction, made on first use: most
// requests run only prepared statements.
func (t *txn) db() *gorm.DB {
	if t.gdb == nil {
		t.gdb = t.gormDB()
	}
	return t.gdb
}

// errRetry asks the runner to run the whole request again in a writing
// transaction: a read-only request changed something.
var errRetry = errors.New("otree: retry in a writing transaction")

// run calls fn, turning panics from navigation and hooks into errors.
func (t *txn) run(fn func(t *txn) error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if de, ok := r.(dbError); ok {
			err = de.err
			return
		}
		hook := t.hook.String()
		if hook == "" {
			hook = "gotree"
		}
		err = &HookError{Hook: hook, Value: r, Stack: debug.Stack()}
	}()
	return fn(t)
}

// call runs an experimenter hook, naming it for errors and random seeds.
// If the hook panics, t.hook keeps its name for run to report.
func (t *txn) call(hook hookSite, fn func()) {
	prev := t.hook
	t.hook = hook
	fn()
	t.hook = prev
}

// needWrite makes a read-only request run again in a writing transaction
// before it writes anything: a hook that regroups, say, from
// VarsForTemplate.
func (t *txn) needWrite() {
	if !t.write {
		panic(dbError{errRetry})
	}
}

// must panics with a dbError so that navigation methods, which return no
// error, can abort the request.
func must(err error) {
	if err != nil {
		panic(dbError{err})
	}
}

// afterCommit queues fn to run once the transaction has committed.
func (t *txn) afterCommit(fn func(ctx context.Context)) { t.after = append(t.after, fn) }

// write runs fn in a writing transaction, retrying when the database
// reports a deadlock or a serialization failure, or a row changed under
// it, then runs the after-commit functions.
func (e *engine) write(ctx context.Context, fn func(t *txn) error) error {
	var t *txn
	var err error
	for attempt := range maxAttempts {
		t, err = e.writeOnce(ctx, fn)
		if !retryable(err) || ctx.Err() != nil {
			break
		}
		// Back off for a random while, growing with the attempts, so that
		// requests that collided do not collide again in step.
		wait := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt, 6)))
		sleep(ctx, wait)
	}
	if err != nil {
		return err
	}
	for _, f := range t.after {
		f(context.WithoutCancel(ctx))
	}
	return nil
}

// maxAttempts bounds how often a request runs when it keeps colliding.
const maxAttempts = 20

// writeOnce runs fn in one transaction and commits it if fn and the save
// succeed.
func (e *engine) writeOnce(ctx context.Context, fn func(t *txn) error) (*txn, error) {
	var t *txn
	err := e.store.write(ctx, func(db func() *gorm.DB, r runner) error {
		t = newTxn(r.ctx, e, db, r, true)
		defer func() { t.done = true }()
		return t.run(func(t *txn) error {
			if err := fn(t); err != nil {
				return err
			}
			return t.save()
		})
	})
	return t, err
}

// read runs fn without a writing transaction. If fn changes a model, it
// runs again in a writing transaction, so that a page's VarsForTemplate may
// store what it computes, as in oTree.
func (e *engine) read(ctx context.Context, fn func(t *txn) error) error {
	t := e.readTxn(ctx)
	err := t.run(func(t *txn) error {
		if err := fn(t); err != nil {
			return err
		}
		if t.dirty() {
			return errRetry
		}
		return nil
	})
	t.done = true
	if errors.Is(err, errRetry) {
		return e.write(ctx, fn)
	}
	return err
}

// readTxn returns a txn that reads outside any transaction.
func (e *engine) readTxn(ctx context.Context) *txn {
	db := func() *gorm.DB { return e.store.r.WithContext(ctx) }
	return newTxn(ctx, e, db, runner{ctx, e.store.rsql, e.store.rstmts}, false)
}

func retryable(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	if errors.Is(err, errConflict) {
		return true
	}
	return strings.Contains(s, "40P01") || strings.Contains(s, "40001") ||
		strings.Contains(s, "deadlock detected") || strings.Contains(s, "SQLITE_BUSY") ||
		strings.Contains(s, "database is locked")
}

// dirty reports whether any loaded row or participant has changes to save.
func (t *txn) dirty() bool {
	for _, st := range t.states {
		if cols, _ := st.changes(); len(cols) > 0 {
			return true
		}
		if pm, ok := st.self.Interface().(playerModel); ok && *pm.payoffField() != st.payoff {
			return true
		}
	}
	for _, p := range t.participants {
		if len(participantChanges(p)) > 0 {
			return true
		}
	}
	for _, s := range t.sessions {
		if len(sessionChanges(s)) > 0 {
			return true
		}
	}
	return false
}

// save writes every change of the loaded rows, participants and sessions.
func (t *txn) save() error {
	for _, st := range t.states {
		if err := t.saveRow(st); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(t.participants) {
		if err := t.saveParticipant(t.participants[id]); err != nil {
			return err
		}
	}
	for _, s := range t.sessions {
		if err := t.saveSession(s); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (t *txn) saveRow(st *rowState) error {
	cols, vals := st.changes()
	pm, isPlayer := st.self.Interface().(playerModel)
	if isPlayer {
		if pay := *pm.payoffField(); pay != st.payoff {
			cols, vals = append(cols, "payoff"), append(vals, toDriver(pay))
			t.syncPayoff(t.participant(pm.pcore().participantID), st)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	var was []any
	for _, c := range cols {
		was = append(was, st.loadedColumn(c))
	}
	id := st.self.Interface().(model).core().id
	if err := t.update(st.tbl.name, id, cols, vals, cols, was); err != nil {
		return fmt.Errorf("save %s: %w", st.tbl.name, err)
	}
	st.markSaved()
	return nil
}

// errConflict reports that a row changed under a request since it read
// it: the request runs again.
var errConflict = errors.New("otree: a row changed since it was read")

// update writes the columns cols of the row id of table. On Postgres,
// where other requests and processes write at the same time without
// holding locks on everything they read, it also requires each column of
// guard to still hold the value this request read, and reports
// errConflict if one does not, so that no change is lost.
func (t *txn) update(table string, id int64, cols []string, vals []any, guard []string,
	was []any) error {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = quote(c) + " = ?"
	}
	q := fmt.Sprintf("UPDATE %s SET %s WHERE id = ?", quote(table), strings.Join(set, ", "))
	args := append(slices.Clone(vals), id)
	if !t.e.store.postgres {
		return t.q.exec(q, args...) // the only writer: nothing changes under it
	}
	for i, c := range guard {
		q += " AND " + quote(c) + " IS NOT DISTINCT FROM ?"
		args = append(args, was[i])
	}
	n, err := t.q.execCount(q, args...)
	if err == nil && n == 0 {
		err = errConflict
	}
	return err
}

// syncPayoff adds to participant p the change of player st's payoff that
// it does not have yet, so that a participant's payoff is always the sum
// of its players', also within the request that changed one.
func (t *txn) syncPayoff(p *Participant, st *rowState) {
	cur := *st.self.Interface().(playerModel).payoffField()
	if d := cur.Sub(st.payoff).Sub(st.applied); !d.IsZero() {
		p.Payoff = p.Payoff.Add(d)
		st.applied = st.applied.Add(d)
	}
}

// syncPayoffs brings participant p's payoff up to date with its loaded
// players'.
func (t *txn) syncPayoffs(p *Participant) {
	for _, st := range t.states {
		if pm, ok := st.self.Interface().(playerModel); ok && pm.pcore().participantID == p.ID {
			t.syncPayoff(p, st)
		}
	}
}

// participantChanges lists the changed columns of p; a change of payoff
// is saved as a delta.
func participantChanges(p *Participant) map[string]any {
	ch := map[string]any{}
	st := p.st
	if p.Label != st.label {
		ch["label"] = p.Label
	}
	if v := jsonString(p.Vars); v != st.vars {
		ch["vars"] = v
	}
	if p.Payoff != st.payoff {
		ch["payoff"] = nil // computed in saveParticipant
	}
	for col := range st.progressCols {
		ch[col] = progressValue(p, col)
	}
	return ch
}

func (t *txn) saveParticipant(p *Participant) error {
	ch := participantChanges(p)
	if len(ch) == 0 {
		return nil
	}
	cols := make([]string, 0, len(ch))
	for c := range ch {
		cols = append(cols, c)
	}
	slices.Sort(cols) // a stable statement text, prepared once
	var set []string
	var args, was []any
	var guard []string
	for _, c := range cols {
		switch c {
		case "payoff":
			continue // below
		case "label":
			guard, was = append(guard, c), append(was, p.st.label)
		case "vars":
			guard, was = append(guard, c), append(was, p.st.varsText)
		}
		set, args = append(set, c), append(args, ch[c])
	}
	if err := t.update("otree_participant", p.ID, set, args, guard, was); err != nil {
		return fmt.Errorf("save participant %s: %w", p.Code, err)
	}
	if _, ok := ch["payoff"]; ok {
		// A delta, so that concurrent changes to the same participant's
		// payoff from other groups' hooks add up.
		delta := p.Payoff.Sub(p.st.payoff)
		if err := t.q.exec("UPDATE otree_participant SET payoff = payoff + ? WHERE id = ?",
			toDriver(delta), p.ID); err != nil {
			return fmt.Errorf("save participant %s: %w", p.Code, err)
		}
	}
	p.st.payoff = p.Payoff
	p.st.label, p.st.vars = p.Label, jsonString(p.Vars)
	p.st.varsText = p.st.vars
	p.st.progressCols = nil
	return nil
}

func (t *txn) saveSession(s *Session) error {
	ch := sessionChanges(s)
	if len(ch) == 0 {
		return nil
	}
	loaded := map[string]any{"label": s.st.label, "comment": s.st.comment, "vars": s.st.varsText}
	var cols []string
	var vals, was []any
	for _, c := range []string{"comment", "label", "vars"} {
		if v, ok := ch[c]; ok {
			cols, vals, was = append(cols, c), append(vals, v), append(was, loaded[c])
		}
	}
	if err := t.update("otree_session", s.ID, cols, vals, cols, was); err != nil {
		return fmt.Errorf("save session %s: %w", s.Code, err)
	}
	s.st.label, s.st.comment, s.st.vars = s.Label, s.Comment, jsonString(s.Vars)
	s.st.varsText = s.st.vars
	return nil
}

func sessionChanges(s *Session) map[string]any {
	ch := map[string]any{}
	if s.Label != s.st.label {
		ch["label"] = s.Label
	}
	if s.Comment != s.st.comment {
		ch["comment"] = s.Comment
	}
	if v := jsonString(s.Vars); v != s.st.vars {
		ch["vars"] = v
	}
	return ch
}

// progressValue returns the value of a progress column of p.
func progressValue(p *Participant, col string) any {
	switch col {
	case "page_index":
		return p.PageIndex
	case "max_page_index":
		return p.MaxPageIndex
	case "current_app":
		return p.CurrentApp
	case "current_page":
		return p.CurrentPage
	case "round_number":
		return p.RoundNumber
	case "on_wait_page":
		return p.OnWaitPage
	case "last_page_at":
		return p.LastPageAt
	case "expiry_page":
		return p.ExpiryPage
	case "expiry_at":
		return p.ExpiryAt
	case "visited":
		return p.Visited
	case "time_started":
		return p.TimeStarted
	}
	panic("otree: unknown progress column " + col)
}

// setProgress marks progress columns of p as changed by gotree.
func (p *Participant) setProgress(cols ...string) {
	if p.st.progressCols == nil {
		p.st.progressCols = map[string]bool{}
	}
	for _, c := range cols {
		p.st.progressCols[c] = true
	}
}

// adopt starts tracking a participant loaded by this txn.
func (t *txn) adopt(p *Participant) *Participant {
	if old := t.participants[p.ID]; old != nil {
		return old
	}
	vars := jsonString(p.Vars)
	p.st = &participantState{tx: t, payoff: p.Payoff, label: p.Label, vars: vars,
		varsText: cmp.Or(p.varsText, vars)}
	t.participants[p.ID] = p
	if t.sessionID == 0 {
		t.sessionID = p.SessionID
	}
	return p
}

// participant returns the participant with the given ID.
func (t *txn) participant(id int64) *Participant {
	if p := t.participants[id]; p != nil {
		return p
	}
	p, err := t.loadParticipant("id = ?", false, id)
	must(err)
	if p == nil {
		must(fmt.Errorf("no participant with id %d", id))
	}
	return t.adopt(p)
}

// participantByCode loads a participant by code; with lock, the row stays
// locked until the transaction ends (a no-op on SQLite, whose writer holds
// the database). It returns nil for an unknown code.
func (t *txn) participantByCode(code string, lock bool) (*Participant, error) {
	if !isCode(code) {
		return nil, nil
	}
	p, err := t.loadParticipant("code = ?", lock, code)
	if err != nil {
		return nil, fmt.Errorf("load participant: %w", err)
	}
	if p == nil {
		return nil, nil
	}
	return t.adopt(p), nil
}

// loadParticipant reads one participant row, or nil if none matches.
func (t *txn) loadParticipant(where string, lock bool, args ...any) (*Participant, error) {
	q := "SELECT " + participantColumns + " FROM otree_participant WHERE " + where
	if lock && t.e.store.postgres {
		q += " FOR UPDATE"
	}
	rows, err := t.q.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	return scanParticipant(rows)
}

// lockParticipant re-reads a participant under a row lock, for changing
// another participant's progress. Unsaved changes to it are kept.
func (t *txn) lockParticipant(id int64) *Participant {
	if !t.e.store.postgres {
		return t.participant(id)
	}
	fresh, err := t.loadParticipant("id = ?", true, id)
	must(err)
	if fresh == nil {
		must(fmt.Errorf("no participant with id %d", id))
	}
	p := t.participants[id]
	if p == nil {
		return t.adopt(fresh)
	}
	if len(p.st.progressCols) == 0 {
		p.PageIndex, p.OnWaitPage = fresh.PageIndex, fresh.OnWaitPage
		p.ExpiryPage, p.ExpiryAt = fresh.ExpiryPage, fresh.ExpiryAt
		p.CurrentApp, p.CurrentPage, p.RoundNumber = fresh.CurrentApp, fresh.CurrentPage, fresh.RoundNumber
	}
	return p
}

// sessionByID returns the session with the given ID.
func (t *txn) sessionByID(id int64) *Session {
	if s := t.sessions[id]; s != nil {
		return s
	}
	rows, err := t.q.query("SELECT "+sessionColumns+" FROM otree_session WHERE id = ?", id)
	must(err)
	defer rows.Close()
	if !rows.Next() {
		must(errors.Join(rows.Err(), fmt.Errorf("no session with id %d", id)))
	}
	s, err := scanSession(rows)
	must(err)
	return t.adoptSession(s)
}

// adoptSession starts tracking a session loaded by this txn.
func (t *txn) adoptSession(s *Session) *Session {
	if old := t.sessions[s.ID]; old != nil {
		return old
	}
	vars := jsonString(s.Vars)
	s.st = &sessionState{tx: t, label: s.Label, comment: s.Comment, vars: vars,
		varsText: cmp.Or(s.varsText, vars)}
	if t.sessions == nil {
		t.sessions = map[int64]*Session{}
	}
	t.sessions[s.ID] = s
	if t.sessionID == 0 {
		t.sessionID = s.ID
	}
	return s
}

// sessionParticipants returns the session's participants by IDInSession.
func (t *txn) sessionParticipants(sessionID int64) []*Participant {
	if list, ok := t.sessionParts[sessionID]; ok {
		return list
	}
	rows, err := t.q.query("SELECT "+participantColumns+
		" FROM otree_participant WHERE session_id = ? ORDER BY id_in_session", sessionID)
	must(err)
	defer rows.Close()
	var list []*Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		must(err)
		list = append(list, t.adopt(p))
	}
	must(rows.Err())
	if t.sessionParts == nil {
		t.sessionParts = map[int64][]*Participant{}
	}
	t.sessionParts[sessionID] = list
	return list
}

// query loads the rows of tbl matching where, reusing rows already loaded.
func (t *txn) query(tbl *table, where string, args ...any) []any {
	return t.load(tbl, false, where, args...)
}

// reload is query, but rows already loaded and unchanged take the values
// now in the database: a request that has just taken a lock sees what
// others committed before it.
func (t *txn) reload(tbl *table, where string, args ...any) []any {
	return t.load(tbl, true, where, args...)
}

func (t *txn) load(tbl *table, fresh bool, where string, args ...any) []any {
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", tbl.cols, quote(tbl.name), where)
	rows, err := t.q.query(q, args...)
	must(err)
	defer rows.Close()
	n := len(tbl.sys) + len(tbl.schema.fields)
	vals, ptrs := make([]any, n), make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []any
	for rows.Next() {
		must(rows.Scan(ptrs...))
		id, err := toInt64(vals[0])
		must(err)
		if st := t.byID[rowKey{tbl, id}]; st != nil {
			if fresh && st.clean() {
				must(st.fill(vals))
			}
			out = append(out, st.self.Interface())
			continue
		}
		st, err := t.newModel(tbl, vals)
		must(err)
		t.track(st)
		out = append(out, st.self.Interface())
	}
	must(rows.Err())
	return out
}

// track adds a freshly loaded row to the identity maps.
func (t *txn) track(st *rowState) {
	m := st.self.Interface().(model)
	c := m.core()
	t.byID[rowKey{st.tbl, c.id}] = st
	t.states = append(t.states, st)
	switch st.tbl.kind {
	case playerTable:
		pc := m.(playerModel).pcore()
		t.players[playerKey{st.tbl.app, pc.participantID, c.round}] = st
	case subsessionTable:
		if t.subsessions == nil {
			t.subsessions = map[roundKey]*rowState{}
		}
		t.subsessions[roundKey{st.tbl.app, c.sessionID, c.round}] = st
	}
}

func (t *txn) one(tbl *table, what string, where string, args ...any) any {
	list := t.query(tbl, where, args...)
	if len(list) != 1 {
		must(fmt.Errorf("%s: found %d rows of %s, want 1", what, len(list), tbl.name))
	}
	return list[0]
}

// player returns the participant's player in a round of app.
func (t *txn) player(app *appSpec, participantID int64, round int) any {
	if st := t.players[playerKey{app, participantID, round}]; st != nil {
		return st.self.Interface()
	}
	return t.one(app.player, "player", "participant_id = ? AND round_number = ?",
		participantID, round)
}

// groupByID returns a group of app by row ID.
func (t *txn) groupByID(app *appSpec, id int64) any {
	if st := t.byID[rowKey{app.group, id}]; st != nil {
		return st.self.Interface()
	}
	return t.one(app.group, "group", "id = ?", id)
}

// subsession returns app's subsession of a round in the current session.
func (t *txn) subsession(app *appSpec, round int) any {
	sid := t.sessionOf()
	if st := t.subsessions[roundKey{app, sid, round}]; st != nil {
		return st.self.Interface()
	}
	return t.one(app.subsession, "subsession", "session_id = ? AND round_number = ?", sid, round)
}

// sessionOf returns the ID of the session the request works on.
func (t *txn) sessionOf() int64 {
	if t.sessionID == 0 {
		panic("otree: no session loaded")
	}
	return t.sessionID
}

// groupPlayers returns the players of a group by IDInGroup.
func (t *txn) groupPlayers(app *appSpec, groupID int64) []any {
	return cached(&t.groupMembers, rowKey{app.group, groupID}, func() []any {
		return t.query(app.player, "group_id = ? ORDER BY id_in_group", groupID)
	})
}

// subsessionGroups returns a round's groups by IDInSubsession.
func (t *txn) subsessionGroups(app *appSpec, round int) []any {
	key := roundKey{app, t.sessionOf(), round}
	return cached(&t.roundGroups, key, func() []any {
		return t.query(app.group, "session_id = ? AND round_number = ? ORDER BY id_in_subsession",
			key.sessionID, round)
	})
}

// subsessionPlayers returns a round's players by IDInSubsession.
func (t *txn) subsessionPlayers(app *appSpec, round int) []any {
	key := roundKey{app, t.sessionOf(), round}
	return cached(&t.roundPlayers, key, func() []any {
		return t.query(app.player, "session_id = ? AND round_number = ? ORDER BY id_in_subsession",
			key.sessionID, round)
	})
}

// cached returns (*m)[key], loading and keeping it on first use.
func cached[K comparable](m *map[K][]any, key K, load func() []any) []any {
	if list, ok := (*m)[key]; ok {
		return list
	}
	list := load()
	if *m == nil {
		*m = map[K][]any{}
	}
	(*m)[key] = list
	return list
}

// rand returns the random source for the running hook at a place in the
// session. Its seed hashes the session's seed with the place and the hook,
// so draws in one place never shift those in another.
func (t *txn) rand(app *appSpec, round int, kind string, id int64) *rand.Rand {
	s := t.sessionByID(t.sessionOf())
	key := fmt.Sprintf("%d|%s|%d|%s|%d|%s", s.Seed, app.name, round, kind, id, t.hook.String())
	if r := t.rngs[key]; r != nil {
		return r
	}
	sum := sha256.Sum256([]byte(key))
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]),
		binary.LittleEndian.Uint64(sum[8:16])))
	if t.rngs == nil {
		t.rngs = map[string]*rand.Rand{}
	}
	t.rngs[key] = r
	return r
}
