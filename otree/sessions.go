package otree

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// SessionOptions describe a session to create.
type SessionOptions struct {
	// Config names the session config.
	Config string

	// Participants is the number of participants; 0 means the config's
	// NumDemoParticipants. It must be a multiple of every app's group size.
	Participants int

	// Label is a name for the session in the admin pages and exports.
	Label string

	// Params override the config's parameters of the same names; each
	// value is converted to the type of the value it replaces.
	Params map[string]any

	// Seed seeds the session's random draws; nil draws a seed. The seed is
	// stored with the session, so a session can be replayed.
	Seed *int64

	// Demo marks a session created from the demo page.
	Demo bool

	roomName string
	isBot    bool
}

// maxParticipants bounds the size of a session, so that a mistyped count
// cannot fill the database.
const maxParticipants = 100_000

// A ConfigError reports a session that cannot be created as asked: an
// unknown config, a bad participant count or a bad parameter.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "otree: " + e.Msg }

// createSession creates a session with its participants and every app's
// rows, runs CreatingSession hooks, and returns the session's code.
func (e *engine) createSession(ctx context.Context, o SessionOptions) (*Session, error) {
	k := e.kinds[o.Config]
	if k == nil {
		return nil, &ConfigError{fmt.Sprintf("no session config named %q", o.Config)}
	}
	n := o.Participants
	if n == 0 {
		n = k.NumDemoParticipants
	}
	if n > maxParticipants {
		return nil, &ConfigError{fmt.Sprintf("a session has at most %d participants, not %d",
			maxParticipants, n)}
	}
	if len(o.Label) > 300 || !storableText(o.Label) {
		return nil, &ConfigError{"a session's label is at most 300 characters of text"}
	}
	if n < 1 || n%k.lcm != 0 {
		return nil, &ConfigError{fmt.Sprintf("session config %s needs a positive multiple of %d "+
			"participants, not %d", k.Name, k.lcm, n)}
	}
	params, err := overrideParams(k.params, o.Params)
	if err != nil {
		return nil, err
	}
	var s *Session
	err = e.write(ctx, func(t *txn) error {
		var err error
		s, err = t.createSession(k, o, n, params)
		return err
	})
	return s, err
}

// overrideParams lays REST or admin overrides over a config's params,
// converting each to the type of the value it replaces.
func overrideParams(params, modified map[string]any) (map[string]any, error) {
	out := maps.Clone(params)
	for key, v := range modified {
		old, ok := params[key]
		if !ok {
			return nil, &ConfigError{fmt.Sprintf("the session config has no parameter %q", key)}
		}
		conv, err := convertLike(old, v)
		if err != nil {
			return nil, &ConfigError{fmt.Sprintf("parameter %s: %v", key, err)}
		}
		if f, ok := conv.(float64); ok &&
			(key == "participation_fee" || key == "real_world_currency_per_point") &&
			(f < 0 || f > inputLimit) {
			return nil, &ConfigError{fmt.Sprintf("parameter %s must be between 0 and %d",
				key, inputLimit)}
		}
		out[key] = conv
	}
	return out, nil
}

// convertLike converts v to the type of old: bool, int, float64 or string.
// Whole-number parameters take whole numbers only, rather than truncate.
func convertLike(old, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("no value given")
	}
	s := fmt.Sprint(v)
	switch old.(type) {
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case int, int64:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		if math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("%s is out of range", s)
		}
		return int(f), nil
	case float64, float32:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case string:
		if !storableText(s) {
			return nil, fmt.Errorf("%q is not valid text", s)
		}
		return s, nil
	}
	return nil, fmt.Errorf("cannot be changed (it is a %T)", old)
}

func (t *txn) createSession(k *sessionKind, o SessionOptions, n int, params map[string]any) (*Session, error) {
	seed := randomInt63()
	if o.Seed != nil {
		seed = *o.Seed
	}
	s := &Session{
		Code: randomCode(8), ConfigName: k.Name, Label: o.Label, IsDemo: o.Demo,
		NumParticipants: n, Vars: map[string]any{}, Seed: seed, Params: params,
		AnonCode: randomCode(10), RoomName: o.roomName, CreatedAt: time.Now(),
	}
	if err := t.db().Create(s).Error; err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	t.adoptSession(s)
	parts := make([]*Participant, n)
	for i := range parts {
		parts[i] = &Participant{
			SessionID: s.ID, Code: randomCode(8), IDInSession: i + 1, IsBot: o.isBot,
			Vars: map[string]any{}, MaxPageIndex: len(k.steps),
		}
	}
	if err := t.db().CreateInBatches(parts, 500).Error; err != nil {
		return nil, fmt.Errorf("create participants: %w", err)
	}
	for _, a := range k.apps {
		if err := t.createAppRows(a, s.ID, parts); err != nil {
			return nil, err
		}
	}
	if err := t.runCreatingSession(k); err != nil {
		return nil, err
	}
	return s, nil
}

// createAppRows inserts an app's subsessions, sequential groups and
// players for every round.
func (t *txn) createAppRows(a *appSpec, sessionID int64, parts []*Participant) error {
	size := a.groupSize(len(parts))
	for r := 1; r <= a.numRounds; r++ {
		var subID int64
		q := fmt.Sprintf("INSERT INTO %s (session_id, round_number) VALUES (?, ?) RETURNING id",
			quote(a.subsession.name))
		if err := t.db().Raw(q, sessionID, r).Scan(&subID).Error; err != nil {
			return fmt.Errorf("create %s: %w", a.subsession.name, err)
		}
		groupIDs, err := t.insertGroups(a, sessionID, r, subID, len(parts)/size)
		if err != nil {
			return err
		}
		if err := t.insertPlayers(a, sessionID, r, subID, groupIDs, size, parts); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) insertGroups(a *appSpec, sessionID int64, round int, subID int64, count int) ([]int64, error) {
	tbl := a.group
	cols := []string{"session_id", "round_number", "subsession_id", "id_in_subsession"}
	cols = append(cols, initialColumns(tbl)...)
	rows := make([][]any, count)
	for i := range rows {
		rows[i] = append([]any{sessionID, round, subID, i + 1}, initialValues(tbl)...)
	}
	ids := make([]int64, count)
	err := t.insertRows(tbl.name, cols, rows, func(id int64, idInSub int) {
		ids[idInSub-1] = id
	}, "id_in_subsession")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tbl.name, err)
	}
	return ids, nil
}

func (t *txn) insertPlayers(a *appSpec, sessionID int64, round int, subID int64, groupIDs []int64,
	size int, parts []*Participant) error {
	tbl := a.player
	cols := []string{"session_id", "round_number", "participant_id", "subsession_id",
		"group_id", "id_in_group", "id_in_subsession", "role", "payoff"}
	cols = append(cols, initialColumns(tbl)...)
	zero, _ := Currency{}.Value()
	rows := make([][]any, len(parts))
	for i, p := range parts {
		pos := i%size + 1
		role := ""
		if pos <= len(a.roles) {
			role = a.roles[pos-1]
		}
		rows[i] = append([]any{sessionID, round, p.ID, subID, groupIDs[i/size], pos,
			p.IDInSession, role, zero}, initialValues(tbl)...)
	}
	if err := t.insertRows(tbl.name, cols, rows, nil, ""); err != nil {
		return fmt.Errorf("create %s: %w", tbl.name, err)
	}
	return nil
}

// initialColumns lists the fields a new row sets: every field except form
// fields without an initial value, which stay NULL until submitted, and
// pointer fields, which stay nil.
func initialColumns(tbl *table) []string {
	var cols []string
	for _, f := range tbl.schema.fields {
		if f.startsSet() {
			cols = append(cols, f.column)
		}
	}
	return cols
}

func initialValues(tbl *table) []any {
	var vals []any
	for _, f := range tbl.schema.fields {
		if !f.startsSet() {
			continue
		}
		x := f.initial
		if x == nil {
			x = f.zero()
		}
		vals = append(vals, toDriver(x))
	}
	return vals
}

// startsSet reports whether a new row stores a value for the field.
func (f *fieldSpec) startsSet() bool {
	if f.initial != nil {
		return true
	}
	return !f.inForm && !f.pointer
}

// insertRows inserts rows in batches. If got is set, the statement returns
// each row's id and the value of keyCol, passed to got.
func (t *txn) insertRows(table string, cols []string, rows [][]any, got func(id int64, key int),
	keyCol string) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	per := max(1, 30000/max(len(cols), 1))
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		var args []any
		for _, r := range batch {
			args = append(args, r...)
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", quote(table), strings.Join(quoted, ", "),
			strings.TrimSuffix(strings.Repeat(one+", ", len(batch)), ", "))
		if got == nil {
			if err := t.db().Exec(q, args...).Error; err != nil {
				return err
			}
			continue
		}
		if err := t.insertReturning(q+" RETURNING id, "+quote(keyCol), args, got); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) insertReturning(q string, args []any, got func(id int64, key int)) error {
	rows, err := t.db().Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, key int64
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		got(id, int(key))
	}
	return rows.Err()
}

// runCreatingSession calls each app's CreatingSession for every round, in
// app order and then round order.
func (t *txn) runCreatingSession(k *sessionKind) error {
	for _, a := range k.apps {
		if a.creatingSession == nil {
			continue
		}
		for r := 1; r <= a.numRounds; r++ {
			sub := t.subsession(a, r)
			name := fmt.Sprintf("%s/%s.CreatingSession (round %d)", a.name,
				reflect.TypeOf(sub).Elem().Name(), r)
			var err error
			t.call(named(name), func() { err = a.creatingSession(sub) })
			if err != nil {
				return &ConfigError{fmt.Sprintf("%s: %v", name, err)}
			}
		}
	}
	return nil
}

const codeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// isCode reports whether s could be a code that randomCode made. Lookups
// check it first, so that a URL with a NUL or invalid UTF-8 in it is a
// plain unknown code rather than a query the database refuses.
func isCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		if strings.IndexByte(codeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// randomCode returns n characters from a–z and 0–9, drawn from crypto/rand
// so that codes cannot be guessed.
func randomCode(n int) string {
	b := make([]byte, n)
	limit := big.NewInt(int64(len(codeAlphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic(fmt.Sprintf("otree: read random bytes: %v", err))
		}
		b[i] = codeAlphabet[x.Int64()]
	}
	return string(b)
}

func randomInt63() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("otree: read random bytes: %v", err))
	}
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}
