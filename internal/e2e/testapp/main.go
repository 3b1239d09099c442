// Command testapp serves the timed games that gotree's end-to-end tests in
// internal/e2e play against real processes. It is not an example: its
// pages carry counters and flags for the tests to read from the database.
//
// Each timed page allows the session parameter timeout_ms milliseconds
// (default: GOTREE_E2E_TIMEOUT as a Go duration, else 2 s), unless the
// session parameter deadline_at_ms, a Unix time in milliseconds, is set:
// then every timed page's deadline falls on that instant.
package main

import (
	"os"
	"time"

	"github.com/gotree/gotree/otree"
)

func main() { otree.Run(project) }

type subsession struct {
	otree.BaseSubsession[subsession, group, player]
}

type group struct {
	otree.BaseGroup[subsession, group, player]
}

// A player records, for each timed page, whether it was submitted by its
// timeout and how often BeforeNextPage ran and was committed.
type player struct {
	otree.BasePlayer[subsession, group, player]
	Answer        int `max:"10"`
	FirstTimedOut bool
	FirstSubmits  int
	LastTimedOut  bool
	LastSubmits   int
}

// allowed returns the time a timed page allows p.
func allowed(p *player) time.Duration {
	s := p.Session()
	if at := otree.Param[float64](s, "deadline_at_ms", 0); at > 0 {
		return time.Until(time.UnixMilli(int64(at)))
	}
	return time.Duration(otree.Param[float64](s, "timeout_ms", 0)) * time.Millisecond
}

// First is a timed page with a form.
type First struct{ otree.Page }

func (First) FormFields() []string            { return []string{"Answer"} }
func (First) Timeout(p *player) time.Duration { return allowed(p) }
func (First) BeforeNextPage(p *player, timedOut bool) {
	p.FirstTimedOut = timedOut
	p.FirstSubmits++
}

// Wait1 and Wait2 wait for the group.
type Wait1 struct{ otree.WaitPage }

type Wait2 struct{ otree.WaitPage }

// Last is a timed page without a form.
type Last struct{ otree.Page }

func (Last) Timeout(p *player) time.Duration { return allowed(p) }
func (Last) BeforeNextPage(p *player, timedOut bool) {
	p.LastTimedOut = timedOut
	p.LastSubmits++
}

// End is the last page.
type End struct{ otree.Page }

// timed is played by groups of three: two timed pages, each followed by a
// wait page.
var timed = &otree.App[subsession, group, player]{
	Name: "timed", PlayersPerGroup: 3,
	Pages: []otree.AnyPage{First{}, Wait1{}, Last{}, Wait2{}, End{}},
	Bot: func(b *otree.Bot[player]) {
		b.Submit(First{}, otree.Values{"Answer": 5})
		b.Submit(Last{})
	},
}

// solo is one timed page for one player.
var solo = &otree.App[subsession, group, player]{
	Name: "solo", Pages: []otree.AnyPage{First{}, End{}},
	Bot: func(b *otree.Bot[player]) { b.Submit(First{}, otree.Values{"Answer": 5}) },
}

func params() map[string]any {
	ms := 2000.0
	if d, err := time.ParseDuration(os.Getenv("GOTREE_E2E_TIMEOUT")); err == nil && d > 0 {
		ms = float64(d.Milliseconds())
	}
	return map[string]any{"timeout_ms": ms, "deadline_at_ms": 0.0}
}

var project = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "timed", Apps: []otree.Application{timed}, NumDemoParticipants: 3, Params: params()},
	{Name: "solo", Apps: []otree.Application{solo}, NumDemoParticipants: 1, Params: params()},
}}
