package otree

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm/schema"
)

// A Choice is one allowed value of a field, with the label a form shows for
// it. Choices methods may return []Choice[T] to label their values.
type Choice[T any] struct {
	Value T
	Label string
}

// fieldKind is the storage kind of a model field.
type fieldKind int

const (
	kindInt fieldKind = iota + 1
	kindFloat
	kindCurrency
	kindBool
	kindString
)

func (k fieldKind) String() string {
	switch k {
	case kindInt:
		return "integer"
	case kindFloat:
		return "float"
	case kindCurrency:
		return "currency"
	case kindBool:
		return "boolean"
	case kindString:
		return "string"
	}
	return "unknown"
}

var (
	currencyType = reflect.TypeFor[Currency]()
	choiceTag    = "choices"
)

// Widgets a field may ask for in its widget tag.
var widgets = map[string]bool{
	"": true, "radio": true, "radiohorizontal": true, "select": true,
	"checkbox": true, "textarea": true,
}

// A choice is a field's allowed value (typed as the field's kind) and label.
type choice struct {
	value any
	label string
}

// A fieldSpec describes one experimenter-defined field of a model.
type fieldSpec struct {
	model   string // "Player", "Group" or "Subsession", for messages
	goName  string // Go field name
	column  string // column name, also the form input name
	kind    fieldKind
	pointer bool
	index   []int
	pos     int // position in the model's field list

	label, help, widget string
	min, max            any // nil when absent; typed like values of kind
	noMin               bool
	choices             []choice
	blank               bool
	initial             any // nil when absent
	maxLength           int
	inForm              bool // some page's form edits the field

	// Methods on the model pointer type, zero when absent.
	minMethod, maxMethod, choicesMethod, errorMethod, labelMethod reflect.Method
	choicesLabeled                                                bool
}

// A modelSchema lists the experimenter's fields of one model struct.
type modelSchema struct {
	name   string // "Player", "Group" or "Subsession"
	typ    reflect.Type
	fields []*fieldSpec
	byName map[string]*fieldSpec // by Go name and by column
}

var namer = schema.NamingStrategy{}

// parseModel reads the fields of struct type t, which embeds base.
func parseModel(name string, t reflect.Type, base reflect.Type) (*modelSchema, error) {
	ms := &modelSchema{name: name, typ: t, byName: map[string]*fieldSpec{}}
	if !embeds(t, base) {
		return nil, fmt.Errorf("%s must embed otree.%s", name, baseName(base))
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type == base {
			continue
		}
		if !sf.IsExported() || sf.Tag.Get("otree") == "-" {
			continue
		}
		f, err := parseField(name, sf)
		if err != nil {
			return nil, err
		}
		if err := f.bindMethods(reflect.PointerTo(t)); err != nil {
			return nil, err
		}
		f.pos = len(ms.fields)
		ms.fields = append(ms.fields, f)
		ms.byName[f.goName] = f
		ms.byName[f.column] = f
	}
	return ms, nil
}

func baseName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		n = n[:i]
	}
	return n
}

func embeds(t, base reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if sf := t.Field(i); sf.Anonymous && sf.Type == base {
			return true
		}
	}
	return false
}

// reserved columns belong to gotree's base types.
// The names are those of sysColumns, and the methods the base types
// define (a field Role would hide the method Role).
var reserved = map[string]map[string]bool{
	"Subsession": {"id": true, "session_id": true, "round_number": true},
	"Group": {"id": true, "session_id": true, "round_number": true, "subsession_id": true,
		"id_in_subsession": true},
	"Player": {"id": true, "session_id": true, "participant_id": true, "round_number": true,
		"group_id": true, "subsession_id": true, "id_in_group": true,
		"id_in_subsession": true, "role": true, "payoff": true},
}

func parseField(model string, sf reflect.StructField) (*fieldSpec, error) {
	f := &fieldSpec{
		model:  model,
		goName: sf.Name,
		column: namer.ColumnName("", sf.Name),
		index:  sf.Index,
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s field %s: %s", model, sf.Name, fmt.Sprintf(format, args...))
	}
	if reserved[model][f.column] {
		return nil, fail("the name %q is taken by gotree's own column", f.column)
	}
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		f.pointer = true
		t = t.Elem()
	}
	var ok bool
	if f.kind, ok = kindOf(t); !ok {
		return nil, fail("unsupported type %s (use an int or float type, bool, string, "+
			"otree.Currency or a pointer to one)", sf.Type)
	}
	if err := f.parseTags(sf.Tag); err != nil {
		return nil, fail("%v", err)
	}
	return f, nil
}

func kindOf(t reflect.Type) (fieldKind, bool) {
	if t == currencyType {
		return kindCurrency, true
	}
	if t.PkgPath() != "" && t.Name() != "" {
		// Named types other than Currency would need their own encoding.
		return 0, false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt, true
	case reflect.Float32, reflect.Float64:
		return kindFloat, true
	case reflect.Bool:
		return kindBool, true
	case reflect.String:
		return kindString, true
	}
	return 0, false
}

// tagKeys are the struct tag keys gotree reads.
var tagKeys = []string{"label", "min", "max", choiceTag, "blank", "widget", "initial",
	"maxlength", "help", "otree"}

func (f *fieldSpec) parseTags(tag reflect.StructTag) error {
	if err := checkTagKeys(string(tag)); err != nil {
		return err
	}
	f.label = tag.Get("label")
	f.help = tag.Get("help")
	f.widget = strings.ToLower(tag.Get("widget"))
	if !widgets[f.widget] {
		return fmt.Errorf("unknown widget %q", f.widget)
	}
	if f.widget == "textarea" && f.kind != kindString {
		return fmt.Errorf("widget textarea needs a string field")
	}
	if f.widget == "checkbox" && f.kind != kindBool {
		return fmt.Errorf("widget checkbox needs a bool field")
	}
	var err error
	if f.blank, err = boolTag(tag, "blank"); err != nil {
		return err
	}
	if err := f.parseBounds(tag); err != nil {
		return err
	}
	if err := f.parseChoices(tag.Get(choiceTag)); err != nil {
		return err
	}
	if s, ok := tag.Lookup("initial"); ok {
		if f.initial, err = f.parseValue(s); err != nil {
			return fmt.Errorf("initial: %v", err)
		}
	}
	f.maxLength = 10000
	if s, ok := tag.Lookup("maxlength"); ok {
		if f.kind != kindString {
			return fmt.Errorf("maxlength needs a string field")
		}
		if f.maxLength, err = strconv.Atoi(s); err != nil || f.maxLength <= 0 {
			return fmt.Errorf("maxlength %q is not a positive whole number", s)
		}
	}
	return nil
}

// checkTagKeys refuses a malformed tag, which reflect would read as no
// tag at all, and a key one letter or two away from one of gotree's, such
// as mn:"0" for min:"0". Other keys (gorm, json, ...) belong to others.
func checkTagKeys(tag string) error {
	for tag != "" {
		tag = strings.TrimLeft(tag, " ")
		if tag == "" {
			break
		}
		i := strings.Index(tag, `:"`)
		if i <= 0 || strings.ContainsAny(tag[:i], " \"") {
			return fmt.Errorf("struct tag is malformed at %q: want key:\"value\" pairs", tag)
		}
		key := tag[:i]
		value, err := strconv.QuotedPrefix(tag[i+1:])
		if err != nil {
			return fmt.Errorf("struct tag is malformed at %q: want key:\"value\" pairs", tag)
		}
		tag = tag[i+1+len(value):]
		if slices.Contains(tagKeys, key) {
			continue
		}
		for _, k := range tagKeys {
			if d := editDistance(strings.ToLower(key), k); d <= 1 || (d == 2 && len(k) >= 5) {
				return fmt.Errorf("unknown tag key %q (did you mean %s?)", key, k)
			}
		}
	}
	return nil
}

func boolTag(tag reflect.StructTag, key string) (bool, error) {
	s, ok := tag.Lookup(key)
	if !ok {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s %q is not true or false", key, s)
	}
	return b, nil
}

func (f *fieldSpec) numeric() bool {
	return f.kind == kindInt || f.kind == kindFloat || f.kind == kindCurrency
}

func (f *fieldSpec) parseBounds(tag reflect.StructTag) error {
	for _, key := range []string{"min", "max"} {
		s, ok := tag.Lookup(key)
		if !ok {
			continue
		}
		if !f.numeric() {
			return fmt.Errorf("%s needs a numeric field", key)
		}
		if key == "min" && strings.EqualFold(s, "none") {
			f.noMin = true
			continue
		}
		v, err := f.parseValue(s)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		if key == "min" {
			f.min = v
		} else {
			f.max = v
		}
	}
	if f.min != nil && f.max != nil && compare(f.min, f.max) > 0 {
		return fmt.Errorf("min %s is above max %s", format(f.min), format(f.max))
	}
	return nil
}

// parseChoices reads "a,b,c" or "value:label,value:label".
func (f *fieldSpec) parseChoices(s string) error {
	if s == "" {
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		raw, label, hasLabel := strings.Cut(item, ":")
		raw = strings.TrimSpace(raw)
		v, err := f.parseValue(raw)
		if err != nil {
			return fmt.Errorf("choice %q: %v", raw, err)
		}
		if !hasLabel {
			label = raw
		}
		for _, c := range f.choices {
			if compare(c.value, v) == 0 {
				return fmt.Errorf("choice %q is listed twice", raw)
			}
		}
		f.choices = append(f.choices, choice{v, strings.TrimSpace(label)})
	}
	return nil
}

// errTooLarge is parseValue's error for a number written correctly that no
// field could hold.
var errTooLarge = errors.New("number too large")

// parseValue converts a literal from a tag or a form into the field's kind.
// Numbers are plain decimals, with a point or a comma: no exponents, hex,
// infinities or NaN.
func (f *fieldSpec) parseValue(s string) (any, error) {
	s = strings.TrimSpace(s)
	decimal := strings.Replace(s, ",", ".", 1)
	switch f.kind {
	case kindInt:
		if !isPlainDecimal(decimal) {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return n, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return nil, errTooLarge
		}
		// Accept a whole number written as a decimal, such as 25.0. A plain
		// decimal always parses, to ±Inf if it is too large.
		x, _ := strconv.ParseFloat(decimal, 64)
		if x != math.Trunc(x) {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		if math.Abs(x) > 1<<53 {
			return nil, errTooLarge
		}
		return int64(x), nil
	case kindFloat:
		if !isPlainDecimal(decimal) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		x, err := strconv.ParseFloat(decimal, 64)
		if err != nil {
			return nil, errTooLarge // the only error a plain decimal can give
		}
		return x, nil
	case kindCurrency:
		return ParseCurrency(s)
	case kindBool:
		switch strings.ToLower(s) {
		case "true", "1", "on", "yes":
			return true, nil
		case "false", "0", "off", "no":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	}
	return s, nil
}

// bindMethods finds the field's optional methods on the model pointer type.
func (f *fieldSpec) bindMethods(pt reflect.Type) error {
	goType := pt.Elem().FieldByIndex(f.index).Type
	if f.pointer {
		goType = goType.Elem()
	}
	check := func(suffix string, want func(reflect.Type) bool, sig string) (reflect.Method, error) {
		m, ok := pt.MethodByName(f.goName + suffix)
		if !ok {
			return reflect.Method{}, nil
		}
		if !want(m.Type) {
			return m, fmt.Errorf("%s method %s must be func() %s",
				f.model, m.Name, strings.ReplaceAll(sig, "T", goType.String()))
		}
		return m, nil
	}
	returnsT := func(mt reflect.Type) bool {
		return mt.NumIn() == 1 && mt.NumOut() == 1 && mt.Out(0) == goType
	}
	var err error
	if f.minMethod, err = check("Min", returnsT, "T"); err != nil {
		return err
	}
	if f.maxMethod, err = check("Max", returnsT, "T"); err != nil {
		return err
	}
	if (f.minMethod.Func.IsValid() || f.maxMethod.Func.IsValid()) && !f.numeric() {
		return fmt.Errorf("%s field %s: Min and Max methods need a numeric field", f.model, f.goName)
	}
	f.labelMethod, err = check("Label", func(mt reflect.Type) bool {
		return mt.NumIn() == 1 && mt.NumOut() == 1 && mt.Out(0).Kind() == reflect.String
	}, "string")
	if err != nil {
		return fmt.Errorf("%s method %sLabel must be func() string", f.model, f.goName)
	}
	labeled := reflect.SliceOf(choiceOf(goType))
	f.choicesMethod, err = check("Choices", func(mt reflect.Type) bool {
		return mt.NumIn() == 1 && mt.NumOut() == 1 &&
			(mt.Out(0) == reflect.SliceOf(goType) || mt.Out(0) == labeled)
	}, "[]T (or []otree.Choice[T])")
	if err != nil {
		return err
	}
	if f.choicesMethod.Func.IsValid() {
		f.choicesLabeled = f.choicesMethod.Type.Out(0) == labeled
	}
	f.errorMethod, err = check("Error", func(mt reflect.Type) bool {
		return mt.NumIn() == 2 && mt.In(1) == goType && mt.NumOut() == 1 &&
			mt.Out(0).Kind() == reflect.String
	}, "(T) string")
	if err != nil {
		err = fmt.Errorf("%s method %sError must be func(%s) string", f.model, f.goName, goType)
	}
	return err
}

// choiceOf returns the type Choice[T] for the field types gotree supports.
func choiceOf(t reflect.Type) reflect.Type {
	switch t {
	case currencyType:
		return reflect.TypeFor[Choice[Currency]]()
	}
	switch t.Kind() {
	case reflect.Int:
		return reflect.TypeFor[Choice[int]]()
	case reflect.Int64:
		return reflect.TypeFor[Choice[int64]]()
	case reflect.Int32:
		return reflect.TypeFor[Choice[int32]]()
	case reflect.Float64:
		return reflect.TypeFor[Choice[float64]]()
	case reflect.Bool:
		return reflect.TypeFor[Choice[bool]]()
	case reflect.String:
		return reflect.TypeFor[Choice[string]]()
	}
	return reflect.TypeFor[Choice[any]]()
}

// fieldHookSuffixes end the names of a field's optional methods.
var fieldHookSuffixes = []string{"Min", "Max", "Choices", "Error", "Label"}

// checkModelMethods rejects methods that look like a mistaken hook: a field
// hook whose field is misspelt (ContributonMax) or on the app's other
// model (a Group field's hook on the Player), and a misspelt or misplaced
// CreatingSession. Other methods are the experimenter's own.
func checkModelMethods(models ...*modelSchema) error {
	for _, ms := range models {
		pt := reflect.PointerTo(ms.typ)
		for i := range pt.NumMethod() {
			if err := checkModelMethod(ms, pt.Method(i).Name, models); err != nil {
				return fmt.Errorf("%s method %s: %w", ms.name, pt.Method(i).Name, err)
			}
		}
	}
	return nil
}

func checkModelMethod(ms *modelSchema, name string, models []*modelSchema) error {
	if name != "CreatingSession" && editDistance(name, "CreatingSession") <= 3 {
		return fmt.Errorf("did you mean CreatingSession?")
	}
	if name == "CreatingSession" && ms.name != "Subsession" {
		return fmt.Errorf("CreatingSession is a hook of the Subsession")
	}
	for _, suffix := range fieldHookSuffixes {
		field, ok := strings.CutSuffix(name, suffix)
		if !ok || field == "" || ms.byName[field] != nil {
			continue
		}
		for _, other := range models {
			if f := other.byName[field]; f != nil && other != ms {
				return fmt.Errorf("%s is a field of the %s; define %s on the %s",
					field, other.name, name, other.name)
			}
		}
		if hint := suggest(ms, field); hint != "" {
			return fmt.Errorf("%s has no field %s%s", ms.name, field, hint)
		}
	}
	return nil
}

// suggest returns " (did you mean X?)" for the field of ms nearest to name,
// or "" if none is close.
func suggest(ms *modelSchema, name string) string {
	best, bestDist := "", 3
	for _, f := range ms.fields {
		if d := editDistance(strings.ToLower(name), strings.ToLower(f.goName)); d < bestDist {
			best, bestDist = f.goName, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
