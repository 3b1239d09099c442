package otree

import (
	"fmt"
	"reflect"
	"strings"
)

// A Bot plays one round of an app for one participant, for tests and the
// test command. An app's Bot function is called once per round; it submits
// the round's pages in order and checks results:
//
//	func playRound(b *otree.Bot[Player]) {
//		if b.Case() == "basic" && b.Player().IDInGroup() == 1 {
//			b.SubmitMustFail(Contribute{}, otree.Values{"Contribution": -1})
//		}
//		b.Submit(Contribute{}, otree.Values{"Contribution": 50})
//		b.Expect(b.Player().Payoff, otree.Cu(150))
//		b.Submit(Results{})
//	}
//
// Bots talk to the server over HTTP and WebSockets as a browser does. Wait
// pages are passed by themselves: Submit returns once the participant is
// on a page that is not a wait page, so checks after it see what
// AfterAllPlayersArrive did. A bot must bring its participant to the last
// page of the session (submitting the last page is allowed); one that stops
// early fails. Pages with a Timeout never time out for bots: a bot times a
// page out with SubmitTimeout.
//
// A failed check stops the bot and names the case, participant, app,
// round and page.
type Bot[P any] struct {
	run *botRun
}

// Case returns the case the session plays, or "" if the app has no
// BotCases.
func (b *Bot[P]) Case() string { return b.run.caseName }

// Round returns the round being played.
func (b *Bot[P]) Round() int { return b.run.round }

// Player returns the participant's player in this round, read from the
// database. It is valid until the bot's next Submit.
func (b *Bot[P]) Player() *P {
	return b.run.player().(*P)
}

// Participant returns the participant, read from the database.
func (b *Bot[P]) Participant() *Participant { return b.run.participant() }

// HTML returns the current page's HTML.
func (b *Bot[P]) HTML() string { return b.run.html }

// Submit submits page with values, which must pass validation, and waits
// until the participant is on the next page that is not a wait page.
// Values are keyed by field name.
func (b *Bot[P]) Submit(page AnyPage, values ...Values) {
	b.run.submit(page, merge(values), false, nil)
}

// SubmitTimeout submits page as if its time ran out: the page's
// BeforeNextPage sees timedOut true, valid values are kept and missing or
// invalid ones become zero, as when a participant's page times out. Bots'
// pages never time out by themselves.
func (b *Bot[P]) SubmitTimeout(page AnyPage, values ...Values) {
	b.run.submitTimeout(page, merge(values))
}

// SubmitMustFail submits page with values that must be rejected. If
// errorFields are given, exactly those fields must have errors; a
// page-level error counts as the field "__all__".
func (b *Bot[P]) SubmitMustFail(page AnyPage, values Values, errorFields ...string) {
	b.run.submit(page, values, true, errorFields)
}

// Expect stops the bot unless got equals want (compared with
// reflect.DeepEqual, so types must match too).
func (b *Bot[P]) Expect(got, want any) {
	if !reflect.DeepEqual(got, want) {
		b.run.fatalf("expected %v (%T), got %v (%T)", want, want, got, got)
	}
}

// ExpectHTML stops the bot unless the current page's HTML contains text.
func (b *Bot[P]) ExpectHTML(text string) {
	if !strings.Contains(collapse(b.run.html), collapse(text)) {
		b.run.fatalf("expected the page to contain %q", text)
	}
}

// Errorf records a failure and lets the bot go on.
func (b *Bot[P]) Errorf(format string, args ...any) { b.run.errorf(format, args...) }

// Fatalf records a failure and stops the bot.
func (b *Bot[P]) Fatalf(format string, args ...any) { b.run.fatalf(format, args...) }

func merge(list []Values) Values {
	out := Values{}
	for _, v := range list {
		for k, x := range v {
			out[k] = x
		}
	}
	return out
}

// collapse folds runs of white space, as oTree's bots compare HTML.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// A BotError is a bot's failure, with where it happened.
type BotError struct {
	Config      string
	Case        string
	Participant int    // IDInSession
	Code        string // participant code
	App         string
	Round       int
	Page        string
	Msg         string
}

func (e *BotError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bot failed: config %s", e.Config)
	if e.Case != "" {
		fmt.Fprintf(&b, ", case %s", e.Case)
	}
	fmt.Fprintf(&b, ", participant P%d (%s)", e.Participant, e.Code)
	if e.App != "" {
		fmt.Fprintf(&b, ", app %s round %d", e.App, e.Round)
	}
	if e.Page != "" {
		fmt.Fprintf(&b, ", page %s", e.Page)
	}
	return b.String() + ": " + e.Msg
}
