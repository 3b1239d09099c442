package otree

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// A rowState links a loaded model row to its request and remembers what was
// loaded, so that saving writes only what changed and a field's NULL is
// kept until something sets it.
type rowState struct {
	tx       *txn
	tbl      *table
	self     reflect.Value // pointer to the experimenter's struct
	loaded   []any         // canonical field values as loaded; nil for NULL
	assigned []assignment  // what gotree stored in each field, from a form or a timeout
	payoff   Currency      // players: payoff as loaded
	applied  Currency      // players: payoff change already added to the participant
}

// An assignment records what a form or a timeout stored in a field.
type assignment int8

const (
	notAssigned  assignment = iota
	assignedSome            // a value
	assignedNone            // a blank answer: NULL
)

// stored returns the value field i would be saved with: nil for NULL.
func (st *rowState) stored(i int) any {
	f := st.tbl.schema.fields[i]
	cur := f.get(st.self.Elem())
	switch {
	case f.pointer:
		return cur
	case st.assigned[i] == assignedNone && compare(cur, f.zero()) == 0:
		return nil // left blank, and no hook has set it since
	case st.assigned[i] == assignedSome || st.loaded[i] != nil:
		return cur
	case compare(cur, f.zero()) != 0:
		return cur // a hook set it
	}
	return nil
}

// isSet reports whether field i holds a value.
func (st *rowState) isSet(i int) bool { return st.stored(i) != nil }

// assign sets field i to x on behalf of a form or a timeout. A nil x (a
// blank answer) makes the field unset.
func (st *rowState) assign(i int, x any) {
	st.tbl.schema.fields[i].set(st.self.Elem(), x)
	st.assigned[i] = assignedSome
	if x == nil {
		st.assigned[i] = assignedNone
	}
}

// changes lists the field columns to write and their values.
func (st *rowState) changes() (cols []string, vals []any) {
	for i, f := range st.tbl.schema.fields {
		now, was := st.stored(i), st.loaded[i]
		if (now == nil) == (was == nil) && (now == nil || compare(now, was) == 0) {
			continue
		}
		cols = append(cols, f.column)
		vals = append(vals, toDriver(now))
	}
	return cols, vals
}

// loadedColumn returns a column's value as loaded, for the database.
func (st *rowState) loadedColumn(col string) any {
	if col == "payoff" {
		return toDriver(st.payoff)
	}
	return toDriver(st.loaded[st.tbl.schema.byName[col].pos])
}

// markSaved records the saved values as the loaded ones.
func (st *rowState) markSaved() {
	for i := range st.tbl.schema.fields {
		st.loaded[i] = st.stored(i)
		st.assigned[i] = notAssigned
	}
	if pm, ok := st.self.Interface().(playerModel); ok {
		st.payoff, st.applied = *pm.payoffField(), Currency{}
	}
}

// toDriver converts a canonical value for the database driver.
func toDriver(x any) any {
	switch x := x.(type) {
	case nil:
		return nil
	case Currency:
		v, _ := x.Value()
		return v
	}
	return x
}

// fromDriver converts a scanned column into the canonical value of kind k.
func fromDriver(k fieldKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch k {
	case kindInt:
		return toInt64(v)
	case kindFloat:
		return toFloat64(v)
	case kindCurrency:
		var c Currency
		err := c.Scan(v)
		return c, err
	case kindBool:
		return toBool(v)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	}
	return fmt.Sprint(v), nil
}

func toInt64(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case []byte:
		return strconv.ParseInt(string(v), 10, 64)
	case string:
		return strconv.ParseInt(strings.TrimSuffix(v, ".0"), 10, 64)
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("cannot read %T as an integer", v)
}

func toFloat64(v any) (float64, error) {
	switch v := v.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case string:
		return strconv.ParseFloat(v, 64)
	}
	return 0, fmt.Errorf("cannot read %T as a float", v)
}

func toBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	case string:
		return strconv.ParseBool(v)
	}
	return false, fmt.Errorf("cannot read %T as a boolean", v)
}

// newModel builds a model from a scanned row (system columns, then fields).
func (t *txn) newModel(tbl *table, vals []any) (*rowState, error) {
	rv := reflect.New(tbl.schema.typ)
	st := &rowState{
		tx: t, tbl: tbl, self: rv,
		loaded:   make([]any, len(tbl.schema.fields)),
		assigned: make([]assignment, len(tbl.schema.fields)),
	}
	if err := st.fill(vals); err != nil {
		return nil, err
	}
	rv.Interface().(model).core().st = st
	return st, nil
}

// fill sets the row's columns from scanned values, as loaded.
func (st *rowState) fill(vals []any) error {
	m, tbl := st.self.Interface().(model), st.tbl
	if err := setSystem(m, tbl.kind, vals[:len(tbl.sys)]); err != nil {
		return fmt.Errorf("read %s: %w", tbl.name, err)
	}
	for i, f := range tbl.schema.fields {
		x, err := fromDriver(f.kind, vals[len(tbl.sys)+i])
		if err != nil {
			return fmt.Errorf("read %s.%s: %w", tbl.name, f.column, err)
		}
		st.loaded[i], st.assigned[i] = x, notAssigned
		f.set(st.self.Elem(), x)
	}
	if pm, ok := m.(playerModel); ok {
		st.payoff, st.applied = *pm.payoffField(), Currency{}
	}
	return nil
}

// clean reports whether the row has no change to save.
func (st *rowState) clean() bool {
	if cols, _ := st.changes(); len(cols) > 0 {
		return false
	}
	pm, ok := st.self.Interface().(playerModel)
	return !ok || *pm.payoffField() == st.payoff
}

// setSystem fills the base type's columns, in sysColumns order.
func setSystem(m model, kind tableKind, vals []any) error {
	ints := make([]int64, len(vals))
	for i, v := range vals {
		if kind == playerTable && i >= 8 {
			break // role and payoff are not integers
		}
		n, err := toInt64(v)
		if err != nil {
			return err
		}
		ints[i] = n
	}
	c := m.core()
	c.id, c.sessionID, c.round = ints[0], ints[1], int(ints[2])
	switch kind {
	case groupTable:
		g := m.(groupModel).gcore()
		g.subsessionID, g.idInSubsession = ints[3], int(ints[4])
	case playerTable:
		p := m.(playerModel).pcore()
		p.participantID, p.subsessionID, p.groupID = ints[3], ints[4], ints[5]
		p.idInGroup, p.idInSubsession = int(ints[6]), int(ints[7])
		role, _ := fromDriver(kindString, vals[8])
		if role != nil {
			p.role = role.(string)
		}
		pay, err := fromDriver(kindCurrency, vals[9])
		if err != nil {
			return err
		}
		if pay != nil {
			*m.(playerModel).payoffField() = pay.(Currency)
		}
	}
	return nil
}

var _ driver.Valuer = Currency{}
