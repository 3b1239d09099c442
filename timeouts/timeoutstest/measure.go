package timeoutstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/timeouts"
)

// MeasureSameSecond schedules n tasks due within one second, spread evenly
// over it, runs s with a handler that only records the time it is called,
// and returns each task's lateness, the time of that call minus the task's
// At, sorted in increasing order.
//
// It fails tb if a task fires before it is due, fires twice, or has not fired
// 30 s after the second ends. It calls s.Run, and returns after Run has.
func MeasureSameSecond(tb testing.TB, s timeouts.Scheduler, n int) []time.Duration {
	tb.Helper()
	// Leave time to schedule every task before the second begins.
	base := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	tasks := make([]timeouts.Task, n)
	for i := range tasks {
		at := base.Add(time.Duration(i) * time.Second / time.Duration(n))
		tasks[i] = timeouts.Task{Key: fmt.Sprintf("same-second-%d", i), At: at}
	}
	scheduleAll(tb, s, tasks)
	if late := time.Since(base); late > 0 {
		tb.Fatalf("scheduling %d tasks ended %v after the first was due", n, late)
	}

	rec := newRecorder()
	rec.fired = make(chan firing, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec.handle) }()
	lateness := collect(tb, rec, tasks, base.Add(time.Second+30*time.Second))
	cancel()
	if err := <-done; err != nil {
		tb.Errorf("Run = %v, want nil", err)
	}
	slices.Sort(lateness)
	return lateness
}

// scheduleAll schedules tasks from a few goroutines, as web requests would.
func scheduleAll(tb testing.TB, s timeouts.Scheduler, tasks []timeouts.Task) {
	tb.Helper()
	const workers = 8
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(tasks); i += workers {
				if err := s.Schedule(context.Background(), tasks[i]); err != nil {
					errs <- fmt.Errorf("Schedule(%q) = %w", tasks[i].Key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// collect waits until every task has fired once, or until deadline, and
// returns the lateness of each call.
func collect(tb testing.TB, rec *recorder, tasks []timeouts.Task, deadline time.Time,
) []time.Duration {
	tb.Helper()
	due := make(map[string]time.Time, len(tasks))
	for _, t := range tasks {
		due[t.Key] = t.At
	}
	timeout := time.NewTimer(time.Until(deadline))
	defer timeout.Stop()
	var lateness []time.Duration
	for len(due) > 0 {
		select {
		case f := <-rec.fired:
			at, ok := due[f.task.Key]
			if !ok {
				tb.Errorf("task %q fired twice, or was never scheduled", f.task.Key)
				continue
			}
			delete(due, f.task.Key)
			if f.at.Before(at) {
				tb.Errorf("task %q fired %v before its due time", f.task.Key, at.Sub(f.at))
			}
			lateness = append(lateness, f.at.Sub(at))
		case <-timeout.C:
			tb.Fatalf("%d of %d tasks had not fired by %v", len(due), len(tasks), deadline)
		}
	}
	return lateness
}
