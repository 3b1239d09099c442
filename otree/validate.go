package otree

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// rules are a field's bounds and choices for one model instance, after its
// Min, Max and Choices methods have run.
type rules struct {
	min, max any
	choices  []choice
}

// rulesFor evaluates the field's static and dynamic rules on model, a pointer
// to the struct that holds the field.
func (f *fieldSpec) rulesFor(model reflect.Value) rules {
	r := rules{min: f.min, max: f.max, choices: f.choices}
	if m := f.minMethod; m.Func.IsValid() {
		r.min = canonical(f.kind, m.Func.Call([]reflect.Value{model})[0])
	}
	if m := f.maxMethod; m.Func.IsValid() {
		r.max = canonical(f.kind, m.Func.Call([]reflect.Value{model})[0])
	}
	if m := f.choicesMethod; m.Func.IsValid() {
		r.choices = f.choicesFrom(m.Func.Call([]reflect.Value{model})[0])
	}
	if r.min == nil && !f.noMin && f.numeric() && len(r.choices) == 0 {
		r.min = f.zero()
	}
	return r
}

func (f *fieldSpec) choicesFrom(list reflect.Value) []choice {
	out := make([]choice, list.Len())
	for i := range out {
		item := list.Index(i)
		if f.choicesLabeled {
			v := canonical(f.kind, item.Field(0))
			out[i] = choice{v, item.Field(1).String()}
			continue
		}
		v := canonical(f.kind, item)
		out[i] = choice{v, display(v)}
	}
	return out
}

// validate checks one submitted value of the field and returns it in
// canonical form, or a message for the participant. A blank value of a
// field that may be blank comes back as nil.
func (f *fieldSpec) validate(model reflect.Value, raw string, present bool) (any, string) {
	raw = strings.TrimSpace(raw)
	if f.kind == kindBool && f.widget == "checkbox" && !present {
		raw = "False"
	}
	if raw == "" {
		if f.blank {
			return nil, ""
		}
		return nil, "This field is required."
	}
	x, err := f.parseValue(raw)
	if errors.Is(err, errTooLarge) {
		if strings.HasPrefix(strings.TrimSpace(raw), "-") {
			return nil, "Please enter a larger number."
		}
		return nil, "Please enter a smaller number."
	}
	if err != nil {
		return nil, parseMessage(f.kind)
	}
	if msg := f.fits(model.Elem(), x); msg != "" {
		return nil, msg
	}
	r := f.rulesFor(model)
	if msg := r.check(f, x); msg != "" {
		return nil, msg
	}
	if m := f.errorMethod; m.Func.IsValid() {
		arg := f.goValue(model.Elem(), x)
		if msg := m.Func.Call([]reflect.Value{model, arg})[0].String(); msg != "" {
			return nil, msg
		}
	}
	return x, ""
}

func parseMessage(k fieldKind) string {
	switch k {
	case kindInt:
		return "Please enter a whole number."
	case kindBool:
		return "Please choose one of the offered values."
	}
	return "Please enter a number."
}

// inputLimit bounds numbers a participant may enter in a field without an
// explicit bound on that side: beyond it, sums of a few answers would
// overflow Currency's range and fail every later request of the group.
const inputLimit = 1_000_000_000

// fits checks that a parsed value can be stored: it fits the field's Go
// type and, for text, is valid UTF-8 without NUL bytes (which Postgres
// refuses), and numbers stay within inputLimit unless the field's own
// bounds say otherwise.
func (f *fieldSpec) fits(rv reflect.Value, x any) string {
	t := rv.Type().FieldByIndex(f.index).Type
	if f.pointer {
		t = t.Elem()
	}
	switch x := x.(type) {
	case int64:
		if reflect.Zero(t).OverflowInt(x) {
			return "Please enter a smaller number."
		}
		return f.withinLimit(float64(x))
	case float64:
		if t.Kind() == reflect.Float32 && reflect.Zero(t).OverflowFloat(x) {
			return "Please enter a smaller number."
		}
		return f.withinLimit(x)
	case Currency:
		return f.withinLimit(x.Float64())
	case string:
		if !storableText(x) {
			return "Please enter valid text."
		}
	}
	return ""
}

// storableText reports whether both databases can store s: valid UTF-8
// without NUL bytes, which Postgres refuses in text and JSON.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func (f *fieldSpec) withinLimit(x float64) string {
	if x > inputLimit && f.max == nil && !f.maxMethod.Func.IsValid() {
		return fmt.Sprintf("Please enter a value of at most %d.", inputLimit)
	}
	if x < -inputLimit && f.min == nil && !f.minMethod.Func.IsValid() {
		return fmt.Sprintf("Please enter a value of at least %d.", -inputLimit)
	}
	return ""
}

// check applies bounds, choices and length to a parsed value.
func (r rules) check(f *fieldSpec, x any) string {
	if len(r.choices) > 0 && !r.offers(x) {
		return "Please choose one of the offered values."
	}
	if r.min != nil && compare(x, r.min) < 0 {
		return fmt.Sprintf("Please enter a value of at least %s.", format(r.min))
	}
	if r.max != nil && compare(x, r.max) > 0 {
		return fmt.Sprintf("Please enter a value of at most %s.", format(r.max))
	}
	if s, ok := x.(string); ok && utf8.RuneCountInString(s) > f.maxLength {
		return fmt.Sprintf("Please enter at most %d characters.", f.maxLength)
	}
	return ""
}

func (r rules) offers(x any) bool {
	for _, c := range r.choices {
		if compare(c.value, x) == 0 {
			return true
		}
	}
	return false
}

// goValue converts canonical x into a reflect.Value of the field's Go type
// (the element type for pointer fields), as the struct rv declares it.
func (f *fieldSpec) goValue(rv reflect.Value, x any) reflect.Value {
	t := rv.Type().FieldByIndex(f.index).Type
	if f.pointer {
		t = t.Elem()
	}
	v := reflect.New(t).Elem()
	switch f.kind {
	case kindInt:
		v.SetInt(x.(int64))
	case kindFloat:
		v.SetFloat(x.(float64))
	case kindBool:
		v.SetBool(x.(bool))
	case kindString:
		v.SetString(x.(string))
	default:
		v.Set(reflect.ValueOf(x))
	}
	return v
}
