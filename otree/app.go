package otree

import (
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// An App is one app of an experiment: a sequence of pages played for a
// number of rounds by groups of players. Its type parameters are the app's
// Subsession, Group and Player structs, which embed [BaseSubsession],
// [BaseGroup] and [BasePlayer] with the same parameters.
//
// An App is a plain struct literal, usually a package-level variable:
//
//	var App = &otree.App[Subsession, Group, Player]{
//		Name:            "public_goods_simple",
//		PlayersPerGroup: 3,
//		Pages:           []otree.AnyPage{Contribute{}, ResultsWaitPage{}, Results{}},
//		Templates:       templates,
//	}
//
// The Subsession may define CreatingSession() (or CreatingSession() error),
// which runs for every round when a session is created, in app order and
// then round order. An error stops the session's creation.
//
// An App must not be changed after [Run] (or [Project.Handler]) starts.
type App[S, G, P any] struct {
	// Name identifies the app in URLs, table names and data exports. It is
	// lower case letters, digits and underscores, starting with a letter.
	Name string

	// Doc describes the app for the admin pages.
	Doc string

	// PlayersPerGroup is the group size. 0 puts every player of a round in
	// one group (oTree's None).
	PlayersPerGroup int

	// NumRounds is the number of rounds; 0 means 1.
	NumRounds int

	// Roles name the players of a group by IDInGroup: Roles[0] is the role of
	// IDInGroup 1. Players beyond the list have the role "".
	Roles []string

	// Constants is shown to templates as .C, as oTree's C class.
	Constants any

	// Pages is the page sequence, played in every round.
	Pages []AnyPage

	// Templates holds the pages' templates, usually an embed.FS of *.html
	// files named after the page types.
	Templates fs.FS

	// Bot plays one round for one participant in tests; see [Bot].
	Bot func(b *Bot[P])

	// BotCases, if any, are the cases bots run through: one session per case,
	// each bot reading its case with [Bot.Case].
	BotCases []string

	once sync.Once
	spec *appSpec
	err  error
}

// An Application is an [App] of any model types. Session configs list
// Applications.
type Application interface {
	appSpec() (*appSpec, error)
}

// appSpec is the checked, type-erased form of an App used by the server.
type appSpec struct {
	name, doc       string
	playersPerGroup int
	numRounds       int
	roles           []string
	constants       any
	pages           []*pageSpec
	templates       fs.FS

	player, group, subsession *table

	creatingSession func(s any) error
	bot             func(b *botRun)
	botCases        []string
}

var appNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// appSpec checks the app once and returns its type-erased form. Every
// mistake is reported with the app's name and, where it applies, the page
// and field.
func (a *App[S, G, P]) appSpec() (*appSpec, error) {
	a.once.Do(func() {
		a.spec, a.err = a.build()
		if a.err != nil {
			name := a.Name
			if name == "" {
				name = "(unnamed)"
			}
			a.err = fmt.Errorf("app %s: %w", name, a.err)
		}
	})
	return a.spec, a.err
}

func (a *App[S, G, P]) build() (*appSpec, error) {
	if !appNameRE.MatchString(a.Name) {
		return nil, fmt.Errorf("Name %q must be lower case letters, digits and underscores, "+
			"starting with a letter", a.Name)
	}
	if a.Name == "pg" || strings.HasPrefix(a.Name, "pg_") || a.Name == "otree" {
		return nil, fmt.Errorf("Name %q is reserved: its tables would clash with the "+
			"database's or gotree's own", a.Name)
	}
	if a.PlayersPerGroup < 0 || a.NumRounds < 0 {
		return nil, fmt.Errorf("PlayersPerGroup and NumRounds may not be negative")
	}
	if err := checkRoles(a.Roles, a.PlayersPerGroup); err != nil {
		return nil, err
	}
	spec := &appSpec{
		name: a.Name, doc: a.Doc, playersPerGroup: a.PlayersPerGroup,
		numRounds: max(a.NumRounds, 1), roles: a.Roles, constants: a.Constants,
		templates: a.Templates, botCases: a.BotCases,
	}
	if err := a.buildTables(spec); err != nil {
		return nil, err
	}
	if len(a.Pages) == 0 {
		return nil, fmt.Errorf("Pages is empty")
	}
	for i, page := range a.Pages {
		ps, err := a.bindPage(spec, page)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", typeName(page), err)
		}
		ps.index = i
		spec.pages = append(spec.pages, ps)
	}
	if err := checkPageNames(spec); err != nil {
		return nil, err
	}
	types := dataTypes{
		player: reflect.TypeFor[*P](), group: reflect.TypeFor[*G](),
		subsession: reflect.TypeFor[*S](), constants: reflect.TypeOf(a.Constants),
	}
	if err := loadTemplates(spec, types); err != nil {
		return nil, err
	}
	if err := a.bindModelHooks(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

func (a *App[S, G, P]) buildTables(spec *appSpec) error {
	var err error
	spec.subsession, err = newTable(spec, subsessionTable,
		reflect.TypeFor[S](), reflect.TypeFor[BaseSubsession[S, G, P]](), "Subsession")
	if err != nil {
		return err
	}
	spec.group, err = newTable(spec, groupTable,
		reflect.TypeFor[G](), reflect.TypeFor[BaseGroup[S, G, P]](), "Group")
	if err != nil {
		return err
	}
	spec.player, err = newTable(spec, playerTable,
		reflect.TypeFor[P](), reflect.TypeFor[BasePlayer[S, G, P]](), "Player")
	if err != nil {
		return err
	}
	return checkModelMethods(spec.subsession.schema, spec.group.schema, spec.player.schema)
}

func (a *App[S, G, P]) bindModelHooks(spec *appSpec) error {
	switch any(new(S)).(type) {
	case interface{ CreatingSession() }:
		spec.creatingSession = func(s any) error {
			s.(interface{ CreatingSession() }).CreatingSession()
			return nil
		}
	case interface{ CreatingSession() error }:
		spec.creatingSession = func(s any) error {
			return s.(interface{ CreatingSession() error }).CreatingSession()
		}
	default:
		if _, ok := reflect.TypeFor[*S]().MethodByName("CreatingSession"); ok {
			return fmt.Errorf("Subsession method CreatingSession must be func() or func() error")
		}
	}
	if a.Bot != nil {
		spec.bot = func(r *botRun) { a.Bot(&Bot[P]{run: r}) }
	}
	return nil
}

// checkRoles rejects roles that could never all be given, or that name two
// positions alike.
func checkRoles(roles []string, size int) error {
	if size > 0 && len(roles) > size {
		return fmt.Errorf("Roles names %d roles for groups of %d", len(roles), size)
	}
	for i, r := range roles {
		if r == "" {
			return fmt.Errorf("Roles[%d] is empty", i)
		}
		if slices.Contains(roles[:i], r) {
			return fmt.Errorf("role %q is named twice in Roles", r)
		}
	}
	return nil
}

func checkPageNames(spec *appSpec) error {
	seen := map[string]bool{}
	for _, ps := range spec.pages {
		if seen[ps.name] {
			return fmt.Errorf("page %s appears twice in Pages", ps.name)
		}
		seen[ps.name] = true
	}
	return nil
}

func (s *appSpec) checkRound(n int) {
	if n < 1 || n > s.numRounds {
		panic(fmt.Sprintf("otree: app %s has no round %d (rounds are 1 to %d)",
			s.name, n, s.numRounds))
	}
}

// groupSize returns the number of players per group for a round of n
// players.
func (s *appSpec) groupSize(n int) int {
	if s.playersPerGroup == 0 {
		return n
	}
	return s.playersPerGroup
}

// bindPage checks a page and binds its hooks to the app's types.
func (a *App[S, G, P]) bindPage(spec *appSpec, page AnyPage) (*pageSpec, error) {
	if page == nil {
		return nil, fmt.Errorf("nil page")
	}
	t := reflect.TypeOf(page)
	if t.Kind() == reflect.Pointer {
		return nil, fmt.Errorf("list the page as a value (%s{}), not a pointer", t.Elem().Name())
	}
	if err := checkPageMethods(page); err != nil {
		return nil, err
	}
	ps := &pageSpec{name: t.Name(), kind: page.pageKind(), app: spec}
	b := binder[S, G, P]{page: page, playerName: reflect.TypeFor[P]().Name()}
	if err := b.common(ps); err != nil {
		return nil, err
	}
	if err := b.templateName(ps); err != nil {
		return nil, err
	}
	if ps.isWait() {
		return ps, b.wait(ps)
	}
	if err := b.form(ps); err != nil {
		return nil, err
	}
	return ps, b.fields(ps, spec)
}

// A binder type-asserts a page's optional methods against the signatures
// they must have for the app's types.
type binder[S, G, P any] struct {
	page       AnyPage
	playerName string
}

// has reports whether the page has a method called name; used to tell a
// missing hook from one with the wrong signature.
func (b binder[S, G, P]) has(name string) bool {
	_, ok := reflect.TypeOf(b.page).MethodByName(name)
	return ok
}

func (b binder[S, G, P]) wrong(name, sig string) error {
	return fmt.Errorf("method %s must be %s", name, fmt.Sprintf(sig, "*"+b.playerName))
}

func (b binder[S, G, P]) common(ps *pageSpec) error {
	if h, ok := b.page.(interface{ IsDisplayed(*P) bool }); ok {
		ps.isDisplayed = func(p any) bool { return h.IsDisplayed(p.(*P)) }
	} else if b.has("IsDisplayed") {
		return b.wrong("IsDisplayed", "func(%s) bool")
	}
	if h, ok := b.page.(interface{ VarsForTemplate(*P) Vars }); ok {
		ps.varsForTemplate = func(p any) Vars { return h.VarsForTemplate(p.(*P)) }
	} else if b.has("VarsForTemplate") {
		return b.wrong("VarsForTemplate", "func(%s) otree.Vars")
	}
	if h, ok := b.page.(interface {
		AppAfterThisPage(*P, []string) string
	}); ok {
		ps.appAfterThisPage = func(p any, up []string) string { return h.AppAfterThisPage(p.(*P), up) }
	} else if b.has("AppAfterThisPage") {
		return b.wrong("AppAfterThisPage", "func(%s, []string) string")
	}
	return nil
}

func (b binder[S, G, P]) form(ps *pageSpec) error {
	if h, ok := b.page.(interface{ ErrorMessage(*P) string }); ok {
		ps.errorMessage = func(p any) string { return h.ErrorMessage(p.(*P)) }
	} else if b.has("ErrorMessage") {
		return b.wrong("ErrorMessage", "func(%s) string")
	}
	if h, ok := b.page.(interface{ BeforeNextPage(*P, bool) }); ok {
		ps.beforeNextPage = func(p any, to bool) { h.BeforeNextPage(p.(*P), to) }
	} else if b.has("BeforeNextPage") {
		return b.wrong("BeforeNextPage", "func(%s, bool)")
	}
	if h, ok := b.page.(interface{ Timeout(*P) time.Duration }); ok {
		ps.timeout = func(p any) time.Duration { return h.Timeout(p.(*P)) }
	} else if b.has("Timeout") {
		return b.wrong("Timeout", "func(%s) time.Duration")
	}
	ps.timerText = "Time left to complete this page:"
	if h, ok := b.page.(interface{ TimerText() string }); ok {
		ps.timerText = h.TimerText()
	} else if b.has("TimerText") {
		return fmt.Errorf("method TimerText must be func() string")
	}
	return nil
}

func (b binder[S, G, P]) wait(ps *pageSpec) error {
	if h, ok := b.page.(interface{ WaitForAllGroups() bool }); ok {
		ps.waitForAll = h.WaitForAllGroups()
	} else if b.has("WaitForAllGroups") {
		return fmt.Errorf("method WaitForAllGroups must be func() bool")
	}
	switch h := b.page.(type) {
	case interface{ AfterAllPlayersArrive(*G) }:
		if ps.waitForAll {
			return fmt.Errorf("AfterAllPlayersArrive must take *%s when WaitForAllGroups is true",
				reflect.TypeFor[S]().Name())
		}
		ps.afterGroup = func(g any) { h.AfterAllPlayersArrive(g.(*G)) }
	case interface{ AfterAllPlayersArrive(*S) }:
		ps.waitForAll = true
		ps.afterSubsession = func(s any) { h.AfterAllPlayersArrive(s.(*S)) }
	default:
		if b.has("AfterAllPlayersArrive") {
			return fmt.Errorf("method AfterAllPlayersArrive must be func(*%s) or func(*%s)",
				reflect.TypeFor[G]().Name(), reflect.TypeFor[S]().Name())
		}
	}
	ps.titleText, ps.bodyText = "Please wait", ""
	if h, ok := b.page.(interface{ TitleText() string }); ok {
		ps.titleText = h.TitleText()
	} else if b.has("TitleText") {
		return fmt.Errorf("method TitleText must be func() string")
	}
	if h, ok := b.page.(interface{ BodyText() string }); ok {
		ps.bodyText = h.BodyText()
	} else if b.has("BodyText") {
		return fmt.Errorf("method BodyText must be func() string")
	}
	return nil
}

// fields resolves the page's form fields against the form model's schema.
func (b binder[S, G, P]) fields(ps *pageSpec, spec *appSpec) error {
	if h, ok := b.page.(interface{ FormModel() FormModel }); ok {
		ps.formModel = h.FormModel()
	} else if b.has("FormModel") {
		return fmt.Errorf("method FormModel must be func() otree.FormModel")
	}
	h, ok := b.page.(interface{ FormFields() []string })
	if !ok {
		if b.has("FormFields") {
			return fmt.Errorf("method FormFields must be func() []string")
		}
		return nil
	}
	ms := spec.player.schema
	if ps.formModel == GroupForm {
		ms = spec.group.schema
	} else if ps.formModel != PlayerForm {
		return fmt.Errorf("FormModel returned %d; use otree.PlayerForm or otree.GroupForm",
			ps.formModel)
	}
	for _, name := range h.FormFields() {
		f := ms.byName[name]
		if f == nil && ps.formModel == PlayerForm && spec.group.schema.byName[name] != nil {
			return fmt.Errorf("form field %s: Player has no field %s; it is a Group field, "+
				"which a page edits when its FormModel method returns otree.GroupForm", name, name)
		}
		if f == nil {
			return fmt.Errorf("form field %s: %s has no field %s%s", name, ms.name, name,
				suggest(ms, name))
		}
		if slices.Contains(ps.fields, f) {
			return fmt.Errorf("form field %s is listed twice in FormFields", name)
		}
		if f.pointer {
			return fmt.Errorf("form field %s: a form cannot edit a pointer field", name)
		}
		f.inForm = true
		ps.fields = append(ps.fields, f)
	}
	return nil
}
