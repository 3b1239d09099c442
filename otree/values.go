package otree

import (
	"fmt"
	"reflect"
	"strings"
)

// Values are field values keyed by field name (the Go name, such as
// "Contribution", or the column name, "contribution"). Bots submit them.
type Values map[string]any

// get returns the field's value in model rv (a struct value) as the kind's
// canonical type (int64, float64, Currency, bool or string), or nil for a nil
// pointer.
func (f *fieldSpec) get(rv reflect.Value) any {
	v := rv.FieldByIndex(f.index)
	if f.pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return canonical(f.kind, v)
}

func canonical(k fieldKind, v reflect.Value) any {
	switch k {
	case kindInt:
		return v.Int()
	case kindFloat:
		return v.Float()
	case kindCurrency:
		return v.Interface().(Currency)
	case kindBool:
		return v.Bool()
	}
	return v.String()
}

// set stores x (canonical type, or nil for unset) into the field of rv.
func (f *fieldSpec) set(rv reflect.Value, x any) {
	v := rv.FieldByIndex(f.index)
	switch {
	case x == nil:
		v.SetZero()
	case f.pointer:
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(f.goValue(rv, x))
		v.Set(p)
	default:
		v.Set(f.goValue(rv, x))
	}
}

// zero returns the canonical zero value of the field's kind.
func (f *fieldSpec) zero() any {
	switch f.kind {
	case kindInt:
		return int64(0)
	case kindFloat:
		return float64(0)
	case kindCurrency:
		return Currency{}
	case kindBool:
		return false
	}
	return ""
}

// toCanonical converts a Go value given by an experimenter (in Values or a
// method result) into the field's canonical type.
func (f *fieldSpec) toCanonical(x any) (any, error) {
	if s, ok := x.(string); ok && f.kind != kindString {
		return f.parseValue(s)
	}
	v := reflect.ValueOf(x)
	if x == nil {
		return nil, fmt.Errorf("no value")
	}
	if f.kind == kindCurrency {
		if c, ok := x.(Currency); ok {
			return c, nil
		}
		switch v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return Cu(v.Int()), nil
		case reflect.Float32, reflect.Float64:
			return Cu(v.Float()), nil
		}
		return nil, fmt.Errorf("%v (%T) is not a currency amount", x, x)
	}
	switch {
	case f.kind == kindInt && v.CanInt():
		return v.Int(), nil
	case f.kind == kindFloat && v.CanFloat():
		return v.Float(), nil
	case f.kind == kindFloat && v.CanInt():
		return float64(v.Int()), nil
	case f.kind == kindBool && v.Kind() == reflect.Bool:
		return v.Bool(), nil
	case f.kind == kindString && v.Kind() == reflect.String:
		return v.String(), nil
	}
	return nil, fmt.Errorf("%v (%T) does not fit a %s field", x, x, f.kind)
}

// compare orders two canonical values of the same kind.
func compare(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp3(a, b.(int64))
	case float64:
		return cmp3(a, b.(float64))
	case Currency:
		return a.Cmp(b.(Currency))
	case string:
		return strings.Compare(a, b.(string))
	case bool:
		if a == b.(bool) {
			return 0
		}
		if !a {
			return -1
		}
		return 1
	}
	return 0
}

func cmp3[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// format renders a canonical value for a form input or a URL-encoded post.
func format(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case Currency:
		return x.Decimal()
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(x)
}

// display renders a canonical value for a person to read.
func display(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	}
	return fmt.Sprint(x)
}
