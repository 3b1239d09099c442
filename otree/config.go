package otree

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// A SessionConfig is one kind of session the server can create: a sequence
// of apps with its parameters (oTree's SESSION_CONFIGS entry).
type SessionConfig struct {
	// Name identifies the config in URLs and the REST API: letters, digits
	// and underscores.
	Name string

	// DisplayName is shown on the demo page; Name when empty.
	DisplayName string

	// Apps are played in order.
	Apps []Application

	// NumDemoParticipants is the size of a demo session and the default for
	// bots; 0 means the smallest multiple of every app's group size, and at
	// least 2.
	NumDemoParticipants int

	// RealWorldCurrencyPerPoint converts points to money; 0 takes the
	// project's default (1 unless set).
	RealWorldCurrencyPerPoint float64

	// ParticipationFee, in real-world money, is paid to every participant
	// on top of their payoff; 0 takes the project's default.
	ParticipationFee float64

	// Params are the config's own parameters, read in hooks with [Param].
	// They override the project's default params of the same name, and the
	// REST API's modified_session_config_fields override them. Only declared
	// params can be overridden, and an override is converted to the
	// declared value's type (bool, int, float64 or string) or refused.
	Params map[string]any

	// Doc describes the config on the demo page.
	Doc string
}

// A Project is a whole experiment: its session configs and settings. Pass
// it to [Run].
type Project struct {
	// SessionConfigs are the sessions the server offers.
	SessionConfigs []SessionConfig

	// Defaults apply to every session config (oTree's
	// SESSION_CONFIG_DEFAULTS): its RealWorldCurrencyPerPoint,
	// ParticipationFee and Params fill in what a config leaves out.
	Defaults SessionConfig

	// DemoPageTitle and DemoPageIntro head the demo page. The intro is
	// plain text.
	DemoPageTitle string
	DemoPageIntro string

	// Currency display. PointsDecimalPlaces is 0 unless set;
	// RealWorldCurrencyCode is "USD" unless set.
	PointsDecimalPlaces   int
	RealWorldCurrencyCode string
	PointsName            string
}

var configNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// A sessionKind is a checked session config with its page layout.
type sessionKind struct {
	SessionConfig
	apps   []*appSpec
	params map[string]any // defaults, then the config's own params
	steps  []step         // page index i is steps[i-1]
	lcm    int            // participants must be a multiple of it
}

// A step is one page of a session's page sequence.
type step struct {
	app   *appSpec
	round int
	page  *pageSpec
}

// check validates every app and config. Its error names the config, app,
// page and field of each mistake, one per line.
func (p *Project) check() (map[string]*sessionKind, error) {
	kinds := map[string]*sessionKind{}
	apps := map[string]*appSpec{}
	var errs []error
	for i := range p.SessionConfigs {
		c := p.SessionConfigs[i]
		k, err := p.checkConfig(c, apps)
		if err != nil {
			errs = append(errs, fmt.Errorf("session config %s: %w", c.Name, err))
			continue
		}
		if kinds[c.Name] != nil {
			errs = append(errs, fmt.Errorf("session config %s: the name is used twice", c.Name))
		}
		kinds[c.Name] = k
	}
	if len(p.SessionConfigs) == 0 {
		errs = append(errs, errors.New("no session configs"))
	}
	return kinds, errors.Join(errs...)
}

func (p *Project) checkConfig(c SessionConfig, seen map[string]*appSpec) (*sessionKind, error) {
	if !configNameRE.MatchString(c.Name) {
		return nil, fmt.Errorf("Name %q must be letters, digits and underscores", c.Name)
	}
	if len(c.Apps) == 0 {
		return nil, errors.New("Apps is empty")
	}
	k := &sessionKind{SessionConfig: c, lcm: 1}
	for _, a := range c.Apps {
		spec, err := a.appSpec()
		if err != nil {
			return nil, err
		}
		if prev := seen[spec.name]; prev != nil && prev != spec {
			return nil, fmt.Errorf("two different apps are named %s", spec.name)
		}
		seen[spec.name] = spec
		if slices.Contains(k.apps, spec) {
			return nil, fmt.Errorf("app %s appears twice", spec.name)
		}
		k.apps = append(k.apps, spec)
		k.lcm = lcm(k.lcm, max(spec.playersPerGroup, 1))
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	if k.NumDemoParticipants <= 0 {
		k.NumDemoParticipants = max(k.lcm, 2)
	}
	if k.NumDemoParticipants%k.lcm != 0 {
		return nil, fmt.Errorf("NumDemoParticipants %d is not a multiple of %s",
			k.NumDemoParticipants, groupSizes(k.apps))
	}
	k.params = p.params(c)
	k.layout()
	return k, nil
}

// params merges the project's defaults and the config's own parameters.
func (p *Project) params(c SessionConfig) map[string]any {
	out := map[string]any{
		"real_world_currency_per_point": 1.0,
		"participation_fee":             0.0,
	}
	maps.Copy(out, p.Defaults.Params)
	if p.Defaults.RealWorldCurrencyPerPoint != 0 {
		out["real_world_currency_per_point"] = p.Defaults.RealWorldCurrencyPerPoint
	}
	if p.Defaults.ParticipationFee != 0 {
		out["participation_fee"] = p.Defaults.ParticipationFee
	}
	maps.Copy(out, c.Params)
	if c.RealWorldCurrencyPerPoint != 0 {
		out["real_world_currency_per_point"] = c.RealWorldCurrencyPerPoint
	}
	if c.ParticipationFee != 0 {
		out["participation_fee"] = c.ParticipationFee
	}
	return out
}

func groupSizes(apps []*appSpec) string {
	var s string
	for i, a := range apps {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d (app %s)", max(a.playersPerGroup, 1), a.name)
	}
	return "the group sizes " + s
}

func (k *sessionKind) layout() {
	for _, a := range k.apps {
		for r := 1; r <= a.numRounds; r++ {
			for _, ps := range a.pages {
				k.steps = append(k.steps, step{app: a, round: r, page: ps})
			}
		}
	}
}

// stepAt returns the page at index i (from 1), or false past the end.
func (k *sessionKind) stepAt(i int) (step, bool) {
	if i < 1 || i > len(k.steps) {
		return step{}, false
	}
	return k.steps[i-1], true
}

// firstIndexOf returns the index of the first page of app.
func (k *sessionKind) firstIndexOf(app *appSpec) int {
	for i, s := range k.steps {
		if s.app == app {
			return i + 1
		}
	}
	return 0
}

// appsAfter lists the names of the apps that follow app in the sequence.
func (k *sessionKind) appsAfter(app *appSpec) []string {
	var out []string
	for i, a := range k.apps {
		if a == app {
			for _, b := range k.apps[i+1:] {
				out = append(out, b.name)
			}
		}
	}
	return out
}

func lcm(a, b int) int {
	return a / gcd(a, b) * b
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
