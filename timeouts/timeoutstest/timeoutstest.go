// Package timeoutstest checks that a [timeouts.Scheduler] keeps the rules
// stated in package timeouts.
//
// Start with [Run], called from a test of the implementation with a function
// that makes a fresh scheduler. [MeasureSameSecond] measures how late a
// scheduler runs a burst of tasks; benchmarks use it.
//
// The suite runs in real time, since a scheduler backed by a server cannot
// follow a fake clock; [Options] say how much lateness to accept.
package timeoutstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/timeouts"
)

// Options tune the suite to a scheduler's timing. A nil *Options, and a zero
// value in any field, selects the default.
type Options struct {
	// MaxLateness is how long after its due time a lone task may fire.
	// Firing before the due time always fails. Default 250 ms.
	MaxLateness time.Duration

	// BatchLateness is how long after its due time each of 1,000 tasks due
	// within the same second may fire. Default 1 s.
	BatchLateness time.Duration

	// RetryWithin is the longest a task whose handler failed once or twice
	// may wait before it runs again. The suite also waits this long to
	// check that a cancelled task is not retried. Default 3 s.
	RetryWithin time.Duration

	// Timeout bounds every other wait, such as for Run to return. Default
	// 10 s.
	Timeout time.Duration
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxLateness <= 0 {
		c.MaxLateness = 250 * time.Millisecond
	}
	if c.BatchLateness <= 0 {
		c.BatchLateness = time.Second
	}
	if c.RetryWithin <= 0 {
		c.RetryWithin = 3 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// A suite holds what every conformance test needs.
type suite struct {
	opts         Options
	newScheduler func(t *testing.T) timeouts.Scheduler
}

// Run runs the conformance tests as concurrent subtests of t, one scheduler
// each. newScheduler must return a fresh scheduler holding no tasks and
// register its clean-up with t.Cleanup; the suite calls Run on it at most
// once. opts may be nil.
func Run(t *testing.T, newScheduler func(t *testing.T) timeouts.Scheduler, opts *Options) {
	s := &suite{opts: opts.withDefaults(), newScheduler: newScheduler}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"FiresOnceAtDueTime", s.testFiresOnceAtDueTime},
		{"PastDueFiresAtOnce", s.testPastDue},
		{"ScheduleBeforeRun", s.testScheduleBeforeRun},
		{"ReplaceLater", s.testReplace(200*time.Millisecond, 700*time.Millisecond)},
		{"ReplaceEarlier", s.testReplace(time.Hour, 300*time.Millisecond)},
		{"ScheduleTwice", s.testScheduleTwice},
		{"ReplaceWhileRunning", s.testReplaceWhileRunning},
		{"Cancel", s.testCancel},
		{"CancelWhileRunning", s.testCancelWhileRunning},
		{"CancelUnknown", s.testCancelUnknown},
		{"NoKey", s.testNoKey},
		{"RetryAfterError", s.testRetry},
		{"ManyInSameSecond", s.testMany},
		{"RunWaitsForHandlers", s.testRunWaits},
		{"RunReturnsWhenDone", s.testRunReturns},
	}
	// The subtests mostly wait for time to pass, so they run all at once,
	// whatever the -parallel flag says.
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Go(func() { t.Run(tt.name, tt.fn) })
	}
	wg.Wait()
}

// A firing is one call of the handler.
type firing struct {
	task timeouts.Task
	at   time.Time
}

// A recorder is a handler that records its calls. If fail is set, the
// handler returns what fail returns.
type recorder struct {
	fired chan firing
	fail  func(t timeouts.Task) error
}

func newRecorder() *recorder {
	return &recorder{fired: make(chan firing, 4096)}
}

func (r *recorder) handle(ctx context.Context, t timeouts.Task) error {
	r.fired <- firing{task: t, at: time.Now()}
	if r.fail != nil {
		return r.fail(t)
	}
	return nil
}

// next returns the next call, failing t if none comes within d.
func (r *recorder) next(t testing.TB, d time.Duration) firing {
	t.Helper()
	select {
	case f := <-r.fired:
		return f
	case <-time.After(d):
		t.Fatalf("handler not called within %v", d)
		return firing{}
	}
}

// none fails t if the handler is called within d.
func (r *recorder) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case f := <-r.fired:
		t.Fatalf("handler called again for %q with payload %q", f.task.Key, f.task.Payload)
	case <-time.After(d):
	}
}

// start runs s with h until the test ends; it then checks that Run returns
// nil within the timeout.
func (s *suite) start(t *testing.T, sch timeouts.Scheduler, h timeouts.Handler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sch.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(s.opts.Timeout):
			t.Errorf("Run did not return within %v of its context being done", s.opts.Timeout)
		}
	})
}

// schedule calls Schedule, failing t on error.
func schedule(t testing.TB, sch timeouts.Scheduler, task timeouts.Task) {
	t.Helper()
	if err := sch.Schedule(context.Background(), task); err != nil {
		t.Fatalf("Schedule(%q) = %v", task.Key, err)
	}
}

// cancelTask calls Cancel, failing t on error.
func cancelTask(t testing.TB, sch timeouts.Scheduler, key string) {
	t.Helper()
	if err := sch.Cancel(context.Background(), key); err != nil {
		t.Fatalf("Cancel(%q) = %v", key, err)
	}
}

// checkTask fails t unless the handler got want.
func checkTask(t testing.TB, got, want timeouts.Task) {
	t.Helper()
	if got.Key != want.Key || !got.At.Equal(want.At) || !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("handler got %s, want %s", format(got), format(want))
	}
}

// checkOnTime fails t if f came before due or more than late after it.
func checkOnTime(t testing.TB, f firing, due time.Time, late time.Duration) {
	t.Helper()
	if d := f.at.Sub(due); d < 0 || d > late {
		t.Fatalf("task %q fired %v after its due time, want between 0 and %v", f.task.Key, d, late)
	}
}

func format(t timeouts.Task) string {
	at := t.At.Format(time.RFC3339Nano)
	return fmt.Sprintf("{Key: %q, At: %s, Payload: %q}", t.Key, at, t.Payload)
}

var errHandler = errors.New("timeoutstest: handler failure")
