package otree

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// PageData is what a page's template sees as dot. Player and the Group,
// Subsession and Session methods return the app's own types (*Player and so
// on), so {{.Player.Contribution}} and {{.Group.TotalContribution}} work as
// in Go code.
type PageData struct {
	Player      any
	Participant *Participant
	C           any  // the app's Constants
	Vars        Vars // from the page's VarsForTemplate

	App   string // the app's name
	Page  string // the page's type name
	Title string // the page's name, or a wait page's title text
	Round int

	// BodyText is a wait page's body text.
	BodyText string

	// Timer is set on a timed page.
	Timer *Timer

	// PageError is the message of a page-level error, if any.
	PageError string

	// Client configures gotree's page script.
	Client map[string]any

	t      *txn
	step   step
	group  any
	fields []*fieldSpec
	target reflect.Value // the model the form edits
	errors map[string]string
	values url.Values
	index  int
}

// A Timer is the countdown of a timed page.
type Timer struct {
	Text      string
	Deadline  time.Time
	Remaining string // the time left when rendered, as m:ss
}

// FormFields renders every field of the page's form.
func (d *PageData) FormFields() template.HTML {
	var b strings.Builder
	for _, f := range d.fields {
		b.WriteString(string(d.renderField(f, "")))
	}
	return template.HTML(b.String())
}

// FormField renders one field of the page's form by name, with an optional
// label that replaces the field's own.
func (d *PageData) FormField(name string, label ...string) (template.HTML, error) {
	for _, f := range d.fields {
		if f.goName == name || f.column == name {
			return d.renderField(f, strings.Join(label, " ")), nil
		}
	}
	return "", fmt.Errorf("page %s has no form field %s", d.Page, name)
}

// FieldError returns the error message of a field after a rejected
// submission, for templates that lay out inputs themselves.
func (d *PageData) FieldError(name string) string {
	for _, f := range d.fields {
		if f.goName == name || f.column == name {
			return d.errors[f.column]
		}
	}
	return ""
}

// Display returns the label of a Player field's stored value among its
// choices, as oTree's field_display: {{.Display "Cooperate"}}.
func (d *PageData) Display(name string) (string, error) {
	st := d.Player.(model).core().st
	f := st.tbl.schema.byName[name]
	if f == nil {
		return "", fmt.Errorf("Player has no field %s", name)
	}
	ptr := st.self.Elem().FieldByIndex(f.index).Addr().Interface()
	return d.Player.(model).core().fieldDisplay(ptr), nil
}

// NextButton renders the button that submits the page.
func (d *PageData) NextButton() template.HTML {
	return `<button type="submit" class="otree-btn-next">Next</button>`
}

// value returns the text an input shows: the submitted value after a
// rejected submission, else the stored value, else the initial one.
func (d *PageData) value(f *fieldSpec) (string, bool) {
	if d.values != nil {
		v, ok := d.values[f.column]
		return first(v), ok
	}
	st := d.target.Interface().(model).core().st
	if st != nil && st.isSet(f.pos) {
		return format(f.get(d.target.Elem())), true
	}
	if f.initial != nil {
		return format(f.initial), true
	}
	return "", false
}

func (d *PageData) renderField(f *fieldSpec, label string) template.HTML {
	if label == "" && f.labelMethod.Func.IsValid() {
		label = f.labelMethod.Func.Call([]reflect.Value{d.target})[0].String()
	}
	if label == "" {
		label = f.label
	}
	if label == "" {
		label = f.goName
	}
	r := f.rulesFor(d.target)
	val, has := d.value(f)
	errMsg := d.errors[f.column]
	var b strings.Builder
	class := "otree-field"
	if errMsg != "" {
		class += " otree-field--error"
	}
	fmt.Fprintf(&b, `<div class="%s" id="field_%s">`, class, f.column)
	if f.choiceWidget(r) == "radio" || f.choiceWidget(r) == "radiohorizontal" {
		fmt.Fprintf(&b, `<fieldset><legend>%s</legend>`, esc(label))
		f.writeRadios(&b, r, val, has)
		b.WriteString(`</fieldset>`)
	} else {
		fmt.Fprintf(&b, `<label for="id_%s">%s</label>`, f.column, esc(label))
		f.writeInput(&b, r, val, has)
	}
	if errMsg != "" {
		fmt.Fprintf(&b, `<div class="otree-field-error" role="alert">%s</div>`, esc(errMsg))
	}
	if f.help != "" {
		fmt.Fprintf(&b, `<div class="otree-help">%s</div>`, esc(f.help))
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

func esc(s string) string { return html.EscapeString(s) }

// choiceWidget returns how a field with choices (or a bool) is shown.
func (f *fieldSpec) choiceWidget(r rules) string {
	if f.widget != "" {
		return f.widget
	}
	if f.kind == kindBool {
		return "radio"
	}
	if len(r.choices) > 0 {
		return "select"
	}
	return ""
}

func (f *fieldSpec) boolChoices(r rules) []choice {
	if len(r.choices) > 0 {
		return r.choices
	}
	return []choice{{true, "Yes"}, {false, "No"}}
}

func (f *fieldSpec) writeRadios(b *strings.Builder, r rules, val string, has bool) {
	list := r.choices
	if f.kind == kindBool {
		list = f.boolChoices(r)
	}
	cls := "otree-choices"
	if f.choiceWidget(r) == "radiohorizontal" {
		cls += " otree-choices--horizontal"
	}
	fmt.Fprintf(b, `<div class="%s">`, cls)
	for i, c := range list {
		v := format(c.value)
		checked := ""
		if has && sameChoice(f, val, c.value) {
			checked = " checked"
		}
		fmt.Fprintf(b, `<label class="otree-choice"><input type="radio" name="%s" id="id_%s_%d" `+
			`value="%s"%s%s> %s</label>`, f.column, f.column, i, esc(v), checked,
			required(f), esc(c.label))
	}
	b.WriteString(`</div>`)
}

// sameChoice reports whether a shown value is the choice c.
func sameChoice(f *fieldSpec, shown string, c any) bool {
	x, err := f.parseValue(shown)
	return err == nil && compare(x, c) == 0
}

func required(f *fieldSpec) string {
	if f.blank {
		return ""
	}
	return " required"
}

func (f *fieldSpec) writeInput(b *strings.Builder, r rules, val string, has bool) {
	id := "id_" + f.column
	switch f.choiceWidget(r) {
	case "select":
		fmt.Fprintf(b, `<div class="otree-input"><select id="%s" name="%s"%s>`, id, f.column,
			required(f))
		b.WriteString(`<option value="">---------</option>`)
		for _, c := range choicesOrBool(f, r) {
			sel := ""
			if has && sameChoice(f, val, c.value) {
				sel = " selected"
			}
			fmt.Fprintf(b, `<option value="%s"%s>%s</option>`, esc(format(c.value)), sel,
				esc(c.label))
		}
		b.WriteString(`</select></div>`)
	case "checkbox":
		checked := ""
		if has && sameChoice(f, val, true) {
			checked = " checked"
		}
		fmt.Fprintf(b, `<div class="otree-input"><input type="checkbox" id="%s" name="%s" `+
			`value="True"%s></div>`, id, f.column, checked)
	case "textarea":
		fmt.Fprintf(b, `<textarea id="%s" name="%s" maxlength="%d"%s>%s</textarea>`, id,
			f.column, f.maxLength, required(f), esc(val))
	default:
		f.writeText(b, r, id, val)
	}
}

func choicesOrBool(f *fieldSpec, r rules) []choice {
	if f.kind == kindBool {
		return f.boolChoices(r)
	}
	return r.choices
}

// writeText writes a number or text input with its bounds.
func (f *fieldSpec) writeText(b *strings.Builder, r rules, id, val string) {
	attrs := ""
	typ := "text"
	if f.numeric() {
		typ = "number"
		attrs += ` step="` + f.step() + `"`
		if r.min != nil {
			attrs += ` min="` + esc(format(r.min)) + `"`
		}
		if r.max != nil {
			attrs += ` max="` + esc(format(r.max)) + `"`
		}
	} else {
		attrs += fmt.Sprintf(` maxlength="%d"`, f.maxLength)
	}
	fmt.Fprintf(b, `<div class="otree-input"><input type="%s" id="%s" name="%s" value="%s"%s%s>`,
		typ, id, f.column, esc(val), attrs, required(f))
	if f.kind == kindCurrency {
		fmt.Fprintf(b, ` <span class="otree-suffix">%s</span>`, esc(pointsName))
	}
	b.WriteString(`</div>`)
}

func (f *fieldSpec) step() string {
	switch f.kind {
	case kindInt:
		return "1"
	case kindCurrency:
		if pointsPlaces == 0 {
			return "1"
		}
		return "0." + strings.Repeat("0", pointsPlaces-1) + "1"
	}
	return "any"
}

// execute renders a page's template into a buffer, so that a template
// error never sends half a page.
func execute(t *template.Template, d *PageData) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
