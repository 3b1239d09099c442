package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree"
)

// wantPayoffs are the participants' total payoffs (over every app and round)
// that each config's bot sessions must end with, by case ("" for a config
// without cases) and then by participant. The bots check the same numbers
// round by round; this checks them again end to end, and that every case
// was played.
var wantPayoffs = map[string]map[string][]int{
	"public_goods_simple": {
		"ones":      {101, 101, 101},
		"all_in":    {180, 180, 180},
		"nothing":   {100, 100, 100},
		"mixed":     {126, 116, 106},
		"one_point": {100, 101, 101},
		"thirds":    {127, 127, 126},
	},
	"public_goods": {
		"basic":  {150, 150, 150},
		"min":    {100, 100, 100},
		"max":    {200, 200, 200},
		"uneven": {97, 107, 107},
	},
	"trust": {"": {104, 4}},
	"trust_simple": {
		"offer_0":  {10, 0},
		"offer_5":  {15, 5},
		"offer_10": {30, 0},
	},
	"prisoner": {
		"both_cooperate": {200, 200},
		"both_defect":    {100, 100},
		"p1_defects":     {300, 0},
	},
	"guess_two_thirds": {
		"p1_wins":       {300, 0, 0},
		"p1_and_p2_win": {150, 150, 0},
	},
	// matching_pennies pays a random round; see TestBots.
	"cournot": {
		"min":        {0, 0},
		"max":        {0, 0},
		"asymmetric": {300, 600},
		"symmetric":  {450, 450},
	},
	"dictator": {"": {99, 1}},
	"survey":   {"": {0}},
	"bargaining": {
		"success":     {10, 10},
		"greedy":      {0, 0},
		"split_40_60": {40, 60},
		"over_by_one": {0, 0},
	},
}

// TestBots plays every session config with its bots, as
// "go run ./examples test CONFIG" does, and checks the payoffs reported.
func TestBots(t *testing.T) {
	for _, c := range Project.SessionConfigs {
		t.Run(c.Name, func(t *testing.T) {
			got := playBots(t, Project, c.Name)
			if c.Name == "matching_pennies" {
				checkMatchingPennies(t, got)
				return
			}
			want, ok := wantPayoffs[c.Name]
			if !ok {
				t.Fatalf("no expected payoffs for config %s", c.Name)
			}
			if !sameKeys(got, want) {
				t.Fatalf("cases played: got %v, want %v", keys(got), keys(want))
			}
			for name, w := range want {
				if !slices.Equal(got[name], w) {
					t.Errorf("case %q: payoffs %v, want %v", name, got[name], w)
				}
			}
		})
	}
}

// checkMatchingPennies checks that exactly one participant earned the
// stakes of 100 over the four rounds: the Matcher of the paying round.
func checkMatchingPennies(t *testing.T, got map[string][]int) {
	t.Helper()
	payoffs := got[""]
	slices.Sort(payoffs)
	if !slices.Equal(payoffs, []int{0, 100}) {
		t.Errorf("payoffs %v, want one participant with 100 and one with 0", got[""])
	}
}

// TestSurveyWithMoreParticipants plays the survey, whose one group holds
// every participant, with more than its demo size.
func TestSurveyWithMoreParticipants(t *testing.T) {
	got := playBots(t, Project, "survey", "4")
	if want := []int{0, 0, 0, 0}; !slices.Equal(got[""], want) {
		t.Errorf("payoffs %v, want %v", got[""], want)
	}
}

// TestBrokenExpectationFails makes sure a bot's failed Expect fails the
// test command, so that the numbers the games' bots expect are enforced.
func TestBrokenExpectationFails(t *testing.T) {
	p := &otree.Project{SessionConfigs: []otree.SessionConfig{{
		Name:                "broken",
		Apps:                []otree.Application{brokenApp},
		NumDemoParticipants: 1,
	}}}
	var out bytes.Buffer
	err := p.Command(context.Background(), []string{"test"}, &out)
	if err == nil {
		t.Fatalf("test command passed a bot expecting the wrong payoff:\n%s", &out)
	}
	if !strings.Contains(out.String(), "expected 1 point") {
		t.Errorf("the report does not name the failed expectation:\n%s", &out)
	}
}

type brokenSubsession struct {
	otree.BaseSubsession[brokenSubsession, brokenGroup, brokenPlayer]
}

type brokenGroup struct {
	otree.BaseGroup[brokenSubsession, brokenGroup, brokenPlayer]
}

type brokenPlayer struct {
	otree.BasePlayer[brokenSubsession, brokenGroup, brokenPlayer]
}

type brokenPage struct{ otree.Page }

var brokenApp = &otree.App[brokenSubsession, brokenGroup, brokenPlayer]{
	Name:  "broken",
	Pages: []otree.AnyPage{brokenPage{}},
	Bot: func(b *otree.Bot[brokenPlayer]) {
		b.Submit(brokenPage{})
		b.Expect(b.Player().Payoff, otree.Cu(1)) // the payoff is 0
	},
}

// playBots runs the test command for one config and returns the payoffs it
// reports, by case and then by participant.
func playBots(t *testing.T, p *otree.Project, config string, args ...string) map[string][]int {
	t.Helper()
	var out bytes.Buffer
	err := p.Command(context.Background(), append([]string{"test", config}, args...), &out)
	if err != nil {
		t.Fatalf("test %s: %v\n%s", config, err, &out)
	}
	return parseReport(t, config, out.String())
}

var (
	sessionLine = regexp.MustCompile(`^(\w+)(?: case (\w+))? \(session \w+\)$`)
	playerLine  = regexp.MustCompile(`^\s+P\d+\s+\w+\s+payoff (-?\d+) points?\s`)
)

// parseReport reads the payoffs from a report printed by the test command.
func parseReport(t *testing.T, config, report string) map[string][]int {
	t.Helper()
	got := map[string][]int{}
	current := ""
	for _, line := range strings.Split(report, "\n") {
		if m := sessionLine.FindStringSubmatch(line); m != nil {
			if m[1] != config {
				t.Fatalf("report names config %s, want %s", m[1], config)
			}
			current = m[2]
			got[current] = []int{}
			continue
		}
		if m := playerLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			got[current] = append(got[current], n)
		}
	}
	if len(got) == 0 {
		t.Fatalf("no sessions in the report:\n%s", report)
	}
	return got
}

func sameKeys(a, b map[string][]int) bool {
	return slices.Equal(keys(a), keys(b))
}

func keys(m map[string][]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
