package otree

import (
	"fmt"
	"html/template"
	"reflect"
	"slices"
	"strings"
	"time"
)

// An AnyPage is a page or wait page of an app: a type that embeds [Page] or
// [WaitPage].
type AnyPage interface {
	pageKind() pageKind
}

type pageKind int

const (
	formPage pageKind = iota + 1
	waitPage
)

// Page is embedded in a type to make it a page. The type may define any of
// these methods, where P is the app's Player type:
//
//	IsDisplayed(p *P) bool              false skips the page
//	VarsForTemplate(p *P) Vars          extra template values, as .Vars
//	FormModel() FormModel               PlayerForm (default) or GroupForm
//	FormFields() []string               the fields the form edits
//	ErrorMessage(p *P) string           a page-level check of the submitted
//	                                    values, already set on p (or its group)
//	BeforeNextPage(p *P, timedOut bool) runs after a valid submission
//	Timeout(p *P) time.Duration         time allowed on the page; 0 means no
//	                                    limit, a negative value moves on at once
//	TimerText() string                  text next to the countdown
//	AppAfterThisPage(p *P, upcoming []string) string
//	                                    the name of an upcoming app to jump to,
//	                                    or "" to go on as usual
//	TemplateName() string               a template file other than <Type>.html
//
// Any other exported method is an error at start-up, so a misspelt hook is
// never silently ignored.
type Page struct{}

func (Page) pageKind() pageKind { return formPage }

// WaitPage is embedded in a type to make it a wait page: participants wait
// on it until every member of their group (or of the round, with
// WaitForAllGroups) has arrived. The type may define:
//
//	AfterAllPlayersArrive(g *G)         runs once per group when the last
//	                                    member arrives; taking *S instead
//	                                    makes the page wait for all groups
//	WaitForAllGroups() bool             wait for the whole round
//	IsDisplayed(p *P) bool
//	VarsForTemplate(p *P) Vars
//	TitleText() string                  "Please wait" by default
//	BodyText() string                   "Waiting for the other participants."
//	AppAfterThisPage(p *P, upcoming []string) string
//	TemplateName() string
type WaitPage struct{}

func (WaitPage) pageKind() pageKind { return waitPage }

// FormModel says which model a page's form edits.
type FormModel int

const (
	// PlayerForm edits fields of the participant's Player. It is the default.
	PlayerForm FormModel = iota
	// GroupForm edits fields of the player's Group.
	GroupForm
)

// Vars are extra values for a template, shown to it as .Vars.
type Vars = map[string]any

// A pageSpec is a page after start-up checks, with its hooks bound to the
// app's types. Hooks take the player (or group or subsession) as any.
type pageSpec struct {
	name  string
	kind  pageKind
	app   *appSpec
	index int // position in the app's page sequence, from 0

	formModel    FormModel
	fields       []*fieldSpec
	templateName string // from TemplateName, if the page has it
	tmpl         *template.Template

	isDisplayed      func(p any) bool
	varsForTemplate  func(p any) Vars
	errorMessage     func(p any) string
	beforeNextPage   func(p any, timedOut bool)
	timeout          func(p any) time.Duration
	appAfterThisPage func(p any, upcoming []string) string
	timerText        string

	waitForAll      bool
	afterGroup      func(g any)
	afterSubsession func(s any)
	titleText       string
	bodyText        string
}

func (ps *pageSpec) isWait() bool { return ps.kind == waitPage }

// pageHooks lists the methods a page may have, by kind.
var pageHooks = map[pageKind][]string{
	formPage: {"IsDisplayed", "VarsForTemplate", "FormModel", "FormFields", "ErrorMessage",
		"BeforeNextPage", "Timeout", "TimerText", "AppAfterThisPage", "TemplateName"},
	waitPage: {"AfterAllPlayersArrive", "WaitForAllGroups", "IsDisplayed", "VarsForTemplate",
		"TitleText", "BodyText", "AppAfterThisPage", "TemplateName"},
}

// checkPageMethods rejects exported methods that are not hooks of the
// page's kind.
func checkPageMethods(page AnyPage) error {
	t := reflect.TypeOf(page)
	known := pageHooks[page.pageKind()]
	for i := range t.NumMethod() {
		name := t.Method(i).Name
		if !slices.Contains(known, name) {
			return fmt.Errorf("method %s is not a hook of a %s (known: %s)",
				name, kindName(page.pageKind()), strings.Join(known, ", "))
		}
	}
	// Pages are listed as values, so a hook with a pointer receiver would
	// never be called.
	pt := reflect.PointerTo(t)
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		if _, ok := t.MethodByName(m.Name); !ok {
			return fmt.Errorf("method %s has a pointer receiver (func (*%s) %s); page hooks "+
				"need value receivers (func (%s) %s)", m.Name, t.Name(), m.Name, t.Name(), m.Name)
		}
	}
	return nil
}

func kindName(k pageKind) string {
	if k == waitPage {
		return "wait page"
	}
	return "page"
}

// pageName returns the page type's name, which is also its URL segment and
// default template name.
func pageName(page AnyPage) string {
	return reflect.TypeOf(page).Name()
}

// typeName names a page's type for messages, also when it is a pointer.
func typeName(page AnyPage) string {
	t := reflect.TypeOf(page)
	if t == nil {
		return "(nil)"
	}
	if t.Kind() == reflect.Pointer {
		return "*" + t.Elem().Name()
	}
	return t.Name()
}
