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
	assigned []bool        // gotree set the field, from a form or a timeout
	payoff   Currency      // players: payoff as loaded
}

// isSet reports whether field i holds a value.
func (st *rowState) isSet(i int) bool {
	f := st.tbl.schema.fields[i]
	cur := f.get(st.self.Elem())
	if f.pointer {
		return cur != nil
	}
	return st.loaded[i] != nil || st.assigned[i] || compare(cur, f.zero()) != 0
}

// assign sets field i to x on behalf of a form or a timeout. A nil x (a
// blank answer) leaves the field unset.
func (st *rowState) assign(i int, x any) {
	st.tbl.schema.fields[i].set(st.self.Elem(), x)
	st.assigned[i] = x != nil
}

// changes lists the field columns to write and their values.
func (st *rowState) changes() (cols []string, vals []any) {
	rv := st.self.Elem()
	for i, f := range st.tbl.schema.fields {
		cur := f.get(rv)
		if !st.needsWrite(i, f, cur) {
			continue
		}
		cols = append(cols, f.column)
		vals = append(vals, toDriver(cur))
	}
	return cols, vals
}

func (st *rowState) needsWrite(i int, f *fieldSpec, cur any) bool {
	was := st.loaded[i]
	switch {
	case f.pointer:
		return (cur == nil) != (was == nil) || (cur != nil && compare(cur, was) != 0)
	case was != nil:
		return compare(cur, was) != 0
	}
	return st.assigned[i] || compare(cur, f.zero()) != 0
}

// markSaved records the current values as the loaded ones.
func (st *rowState) markSaved() {
	rv := st.self.Elem()
	for i, f := range st.tbl.schema.fields {
		if st.isSet(i) {
			st.loaded[i] = f.get(rv)
		}
		st.assigned[i] = false
	}
	if pm, ok := st.self.Interface().(playerModel); ok {
		st.payoff = *pm.payoffField()
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
	m := rv.Interface().(model)
	st := &rowState{
		tx: t, tbl: tbl, self: rv,
		loaded:   make([]any, len(tbl.schema.fields)),
		assigned: make([]bool, len(tbl.schema.fields)),
	}
	if err := setSystem(m, tbl.kind, vals[:len(tbl.sys)]); err != nil {
		return nil, fmt.Errorf("read %s: %w", tbl.name, err)
	}
	for i, f := range tbl.schema.fields {
		x, err := fromDriver(f.kind, vals[len(tbl.sys)+i])
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", tbl.name, f.column, err)
		}
		st.loaded[i] = x
		if x != nil {
			f.set(rv.Elem(), x)
		}
	}
	if pm, ok := m.(playerModel); ok {
		st.payoff = *pm.payoffField()
	}
	m.core().st = st
	return st, nil
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
