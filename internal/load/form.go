package load

import (
	"html"
	"math"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// A form is what a page lets a participant submit: its fields and its
// submit buttons, in document order.
type form struct {
	fields  []*field
	buttons []button
}

// A field is one named input of a form; a radio group or a select is one
// field with its choices.
type field struct {
	name      string
	kind      string // an input type ("number", "text", "hidden", …), "select" or "textarea"
	value     string // the value attribute, or a textarea's text
	min, max  string // a number's bounds; "" when absent
	step      string
	choices   []string // the values of a radio group's or select's options
	required  bool
	maxLength int // 0 when absent
}

// A button submits the form; a named one also sends its value, as in
// <button name="accept" value="True">.
type button struct{ name, value string }

var (
	// ignoredRE finds what holds no form: comments, scripts and styles.
	ignoredRE = regexp.MustCompile(`(?is)<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>`)
	// tagRE finds the tags of form elements; attribute values may hold '>'.
	tagRE = regexp.MustCompile(`(?i)<(/?)(input|select|option|button|textarea)\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	// attrRE finds one attribute with its value, if any.
	attrRE = regexp.MustCompile("([^\\s=/>\"']+)(?:\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s\"'=<>`]+)))?")
)

// parseForm finds the inputs, selects, textareas and submit buttons of a
// page. It reads HTML as gotree and oTree write it; it is not a full HTML
// parser (an option's text stops at the next tag, for one).
func parseForm(page string) *form {
	page = formPart(page)
	page = ignoredRE.ReplaceAllString(page, "")
	f := &form{}
	byName := map[string]*field{}
	add := func(fd *field) *field {
		if old := byName[fd.name]; old != nil {
			return old
		}
		byName[fd.name] = fd
		f.fields = append(f.fields, fd)
		return fd
	}
	var sel *field // the select being read
	for _, m := range tagRE.FindAllStringSubmatchIndex(page, -1) {
		closing := m[3] > m[2]
		tag := strings.ToLower(page[m[4]:m[5]])
		attrs := parseAttrs(page[m[6]:m[7]])
		_, disabled := attrs["disabled"]
		if closing {
			if tag == "select" {
				sel = nil
			}
			continue
		}
		switch tag {
		case "input":
			if !disabled {
				f.addInput(attrs, add)
			}
		case "button":
			if typ := strings.ToLower(attrs["type"]); !disabled && (typ == "" || typ == "submit") {
				f.buttons = append(f.buttons, button{attrs["name"], attrs["value"]})
			}
		case "select":
			sel = nil
			if name := attrs["name"]; name != "" && !disabled {
				sel = add(newField(name, "select", attrs))
			}
		case "option":
			if sel == nil || disabled {
				continue
			}
			v, ok := attrs["value"]
			if !ok {
				v = strings.TrimSpace(html.UnescapeString(textUntilTag(page[m[1]:])))
			}
			if v != "" {
				sel.choices = append(sel.choices, v)
			}
		case "textarea":
			if name := attrs["name"]; name != "" && !disabled {
				fd := add(newField(name, "textarea", attrs))
				fd.value = html.UnescapeString(textUntilTag(page[m[1]:]))
			}
		}
	}
	return f
}

// addInput adds an <input> to the form: a field, a radio choice or a
// submit button.
func (f *form) addInput(attrs map[string]string, add func(*field) *field) {
	typ := strings.ToLower(attrs["type"])
	if typ == "" {
		typ = "text"
	}
	name := attrs["name"]
	switch typ {
	case "submit", "image":
		f.buttons = append(f.buttons, button{name, attrs["value"]})
		return
	case "button", "reset", "file":
		return
	}
	if name == "" {
		return
	}
	fd := add(newField(name, typ, attrs))
	if typ == "radio" {
		fd.choices = append(fd.choices, attrs["value"])
	}
}

func newField(name, kind string, attrs map[string]string) *field {
	fd := &field{
		name: name, kind: kind, value: attrs["value"],
		min: attrs["min"], max: attrs["max"], step: attrs["step"],
	}
	_, fd.required = attrs["required"]
	if n, err := strconv.Atoi(attrs["maxlength"]); err == nil && n > 0 {
		fd.maxLength = n
	}
	return fd
}

// parseAttrs returns a tag's attributes by lower-case name, values
// unescaped. An attribute without a value maps to "".
func parseAttrs(s string) map[string]string {
	attrs := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := attrs[name]; dup {
			continue
		}
		attrs[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return attrs
}

// textUntilTag returns the text before the next tag.
func textUntilTag(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		return s[:i]
	}
	return s
}

// submittable reports whether the form has a submit button. The last page
// of a session has none.
func (f *form) submittable() bool { return len(f.buttons) > 0 }

// values fills the form with valid values and clicks a button: the first
// one that carries a field's value, else the first one. Draws come from
// rng. The form must be submittable.
func (f *form) values(rng *rand.Rand) url.Values {
	v := url.Values{}
	clicked := f.buttons[0]
	for _, b := range f.buttons {
		if b.name != "" {
			clicked = b
			break
		}
	}
	for _, fd := range f.fields {
		if fd.name == clicked.name {
			continue
		}
		if s, ok := fd.fill(rng); ok {
			v.Set(fd.name, s)
		}
	}
	if clicked.name != "" {
		v.Set(clicked.name, clicked.value)
	}
	return v
}

// fill returns a valid value for the field, or false to leave it out.
func (fd *field) fill(rng *rand.Rand) (string, bool) {
	switch fd.kind {
	case "radio", "select":
		if len(fd.choices) == 0 {
			return "", false
		}
		return fd.choices[0], true
	case "checkbox":
		if !fd.required {
			return "", false
		}
		if fd.value == "" {
			return "on", true
		}
		return fd.value, true
	case "number", "range":
		return fd.number(rng), true
	case "hidden":
		return fd.value, true
	}
	s := fd.value
	if s == "" {
		s = "x"
	}
	if fd.maxLength > 0 && len(s) > fd.maxLength {
		s = s[:fd.maxLength]
	}
	return s, true
}

// number draws a value on the field's step grid within [min, max]. A missing
// bound is taken 100 from the other, or 0 and 100 when both are missing; a
// missing or "any" step is 1.
func (fd *field) number(rng *rand.Rand) string {
	lo, hasLo := parseNumber(fd.min)
	hi, hasHi := parseNumber(fd.max)
	switch {
	case !hasLo && !hasHi:
		lo, hi = 0, 100
	case !hasLo:
		lo = hi - 100
	case !hasHi:
		hi = lo + 100
	}
	step, ok := parseNumber(fd.step)
	if !ok || step <= 0 {
		step = 1
	}
	places := max(decimals(fd.min), decimals(fd.step))
	steps := int(math.Floor((hi-lo)/step + 1e-9))
	k := 0
	if steps > 0 {
		k = rng.IntN(steps + 1)
	}
	return strconv.FormatFloat(lo+float64(k)*step, 'f', places, 64)
}

func parseNumber(s string) (float64, bool) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return x, err == nil && !math.IsInf(x, 0) && !math.IsNaN(x)
}

// decimals returns the number of digits after the point in a decimal.
func decimals(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(strings.TrimSpace(s)) - i - 1
	}
	return 0
}

// formPart returns the part of a page from its first <form to the last
// </form>, or the whole page if it has no form element: the regular
// expressions then scan a fraction of the page.
func formPart(page string) string {
	lower := strings.ToLower(page)
	start := strings.Index(lower, "<form")
	end := strings.LastIndex(lower, "</form")
	if start < 0 || end < start {
		return page
	}
	return page[start:end]
}
