package timeoutstest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/timeouts"
)

// testFiresOnceAtDueTime ensures a task fires once, at its due time, with
// what it was scheduled with.
func (s *suite) testFiresOnceAtDueTime(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	s.start(t, sch, rec.handle)
	task := timeouts.Task{Key: "due", At: time.Now().Add(300 * time.Millisecond), Payload: []byte("p")}
	schedule(t, sch, task)

	f := rec.next(t, s.opts.Timeout)
	checkTask(t, f.task, task)
	checkOnTime(t, f, task.At, s.opts.MaxLateness)
	rec.none(t, s.opts.MaxLateness)
}

// testPastDue ensures a task due in the past fires at once.
func (s *suite) testPastDue(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	s.start(t, sch, rec.handle)
	task := timeouts.Task{Key: "past", At: time.Now().Add(-time.Hour), Payload: []byte("p")}
	scheduled := time.Now()
	schedule(t, sch, task)

	f := rec.next(t, s.opts.Timeout)
	checkTask(t, f.task, task)
	checkOnTime(t, f, scheduled, s.opts.MaxLateness)
}

// testScheduleBeforeRun ensures tasks scheduled before Run wait for it.
func (s *suite) testScheduleBeforeRun(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	task := timeouts.Task{Key: "early", At: time.Now().Add(-time.Second), Payload: []byte("p")}
	schedule(t, sch, task)
	s.start(t, sch, rec.handle)

	f := rec.next(t, s.opts.Timeout)
	checkTask(t, f.task, task)
}

// testReplace ensures scheduling a key again replaces its task: it fires
// once, at the new time, with the new payload.
func (s *suite) testReplace(first, second time.Duration) func(t *testing.T) {
	return func(t *testing.T) {
		sch, rec := s.newScheduler(t), newRecorder()
		s.start(t, sch, rec.handle)
		now := time.Now()
		old := timeouts.Task{Key: "k", At: now.Add(first), Payload: []byte("old")}
		task := timeouts.Task{Key: "k", At: now.Add(second), Payload: []byte("new")}
		schedule(t, sch, old)
		schedule(t, sch, task)

		f := rec.next(t, s.opts.Timeout+second)
		checkTask(t, f.task, task)
		checkOnTime(t, f, task.At, s.opts.MaxLateness)
		rec.none(t, s.opts.MaxLateness)
	}
}

// testScheduleTwice ensures scheduling the same task twice runs it once.
func (s *suite) testScheduleTwice(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	s.start(t, sch, rec.handle)
	at := time.Now().Add(300 * time.Millisecond)
	task := timeouts.Task{Key: "twice", At: at, Payload: []byte("p")}
	schedule(t, sch, task)
	schedule(t, sch, task)

	f := rec.next(t, s.opts.Timeout)
	checkTask(t, f.task, task)
	rec.none(t, s.opts.MaxLateness)
}

// A blocker is a handler whose first call for one payload waits for release
// and then fails; it records every other call.
type blocker struct {
	*recorder
	payload []byte
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlocker(payload string) *blocker {
	return &blocker{
		recorder: newRecorder(),
		payload:  []byte(payload),
		entered:  make(chan struct{}),
		release:  make(chan struct{}),
	}
}

func (b *blocker) handle(ctx context.Context, t timeouts.Task) error {
	if bytes.Equal(t.Payload, b.payload) && b.first() {
		<-b.release
		return errHandler
	}
	return b.recorder.handle(ctx, t)
}

// first reports whether this is the first call for the blocking payload.
func (b *blocker) first() (ok bool) {
	b.once.Do(func() {
		ok = true
		close(b.entered)
	})
	return ok
}

// wait waits for the blocking call to start.
func (b *blocker) wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(d):
		t.Fatalf("handler not called within %v", d)
	}
}

// testReplaceWhileRunning ensures a task replaced while its handler runs is
// not retried when that handler fails; the new task runs instead.
func (s *suite) testReplaceWhileRunning(t *testing.T) {
	sch, b := s.newScheduler(t), newBlocker("old")
	s.start(t, sch, b.handle)
	schedule(t, sch, timeouts.Task{Key: "k", At: time.Now(), Payload: []byte("old")})
	b.wait(t, s.opts.Timeout)

	// Schedule may wait for the running handler to return, so release the
	// handler from elsewhere; the delay only makes it likely that the two
	// overlap, which is the case under test.
	task := timeouts.Task{Key: "k", At: time.Now(), Payload: []byte("new")}
	go func() {
		time.Sleep(s.opts.MaxLateness)
		close(b.release)
	}()
	schedule(t, sch, task)

	f := b.next(t, s.opts.Timeout)
	checkTask(t, f.task, task)
	b.none(t, s.opts.RetryWithin)
}

// testCancel ensures a cancelled task does not fire, while others do.
func (s *suite) testCancel(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	s.start(t, sch, rec.handle)
	at := time.Now().Add(300 * time.Millisecond)
	// The sentinel falls due after the cancelled task would have fired.
	sentinel := timeouts.Task{Key: "sentinel", At: at.Add(s.opts.MaxLateness)}
	schedule(t, sch, timeouts.Task{Key: "cancelled", At: at})
	schedule(t, sch, sentinel)
	cancelTask(t, sch, "cancelled")

	f := rec.next(t, s.opts.Timeout)
	checkTask(t, f.task, sentinel)
}

// testCancelWhileRunning ensures a task cancelled while its handler runs is
// not retried when that handler fails.
func (s *suite) testCancelWhileRunning(t *testing.T) {
	sch, b := s.newScheduler(t), newBlocker("p")
	s.start(t, sch, b.handle)
	schedule(t, sch, timeouts.Task{Key: "k", At: time.Now(), Payload: []byte("p")})
	b.wait(t, s.opts.Timeout)

	// Cancel may wait for the running handler to return, so release the
	// handler from elsewhere; the delay only makes it likely that the two
	// overlap, which is the case under test.
	go func() {
		time.Sleep(s.opts.MaxLateness)
		close(b.release)
	}()
	cancelTask(t, sch, "k")

	sentinel := timeouts.Task{Key: "sentinel", At: time.Now().Add(s.opts.RetryWithin)}
	schedule(t, sch, sentinel)
	f := b.next(t, s.opts.Timeout+s.opts.RetryWithin)
	checkTask(t, f.task, sentinel)
}

// testCancelUnknown ensures cancelling a key without a task is not an error.
func (s *suite) testCancelUnknown(t *testing.T) {
	sch := s.newScheduler(t)
	cancelTask(t, sch, "unknown")
	schedule(t, sch, timeouts.Task{Key: "k", At: time.Now().Add(time.Hour)})
	cancelTask(t, sch, "k")
	cancelTask(t, sch, "k")
}

// testNoKey ensures a task needs a key.
func (s *suite) testNoKey(t *testing.T) {
	sch := s.newScheduler(t)
	err := sch.Schedule(context.Background(), timeouts.Task{At: time.Now()})
	if !errors.Is(err, timeouts.ErrNoKey) {
		t.Fatalf("Schedule of a task without a key = %v, want %v", err, timeouts.ErrNoKey)
	}
}

// testRetry ensures a task whose handler fails runs again, with the same
// task, until the handler succeeds.
func (s *suite) testRetry(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	var mu sync.Mutex
	calls := 0
	rec.fail = func(timeouts.Task) error {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls <= 2 {
			return errHandler
		}
		return nil
	}
	s.start(t, sch, rec.handle)
	task := timeouts.Task{Key: "flaky", At: time.Now(), Payload: []byte("p")}
	schedule(t, sch, task)

	prev := rec.next(t, s.opts.Timeout)
	for range 2 {
		f := rec.next(t, s.opts.RetryWithin)
		checkTask(t, f.task, task)
		if !f.at.After(prev.at) {
			t.Fatalf("retry at %v, not after the failed call at %v", f.at, prev.at)
		}
		prev = f
	}
	rec.none(t, s.opts.RetryWithin)
}

// testMany ensures 1,000 tasks due within the same second all fire once,
// none early and none later than BatchLateness.
func (s *suite) testMany(t *testing.T) {
	lateness := MeasureSameSecond(t, s.newScheduler(t), 1000)
	if worst := lateness[len(lateness)-1]; worst > s.opts.BatchLateness {
		t.Fatalf("worst lateness of 1,000 tasks due within one second = %v, want at most %v",
			worst, s.opts.BatchLateness)
	}
}

// testRunWaits ensures Run returns after its context is done, but only once
// running handlers have returned.
func (s *suite) testRunWaits(t *testing.T) {
	sch, b := s.newScheduler(t), newBlocker("p")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sch.Run(ctx, b.handle) }()
	schedule(t, sch, timeouts.Task{Key: "k", At: time.Now(), Payload: []byte("p")})
	b.wait(t, s.opts.Timeout)

	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while a handler was running", err)
	case <-time.After(s.opts.MaxLateness):
	}
	close(b.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(s.opts.Timeout):
		t.Fatalf("Run did not return within %v of its handler returning", s.opts.Timeout)
	}
}

// testRunReturns ensures Run returns when its context is done while it
// waits for a task.
func (s *suite) testRunReturns(t *testing.T) {
	sch, rec := s.newScheduler(t), newRecorder()
	schedule(t, sch, timeouts.Task{Key: "later", At: time.Now().Add(time.Hour)})
	s.start(t, sch, rec.handle) // the clean-up checks that Run returns
}
