package otree

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gotree/gotree/timeouts"
)

// Page deadlines are stored with the participant and scheduled as tasks.
// A task can be lost: a process may die between storing a deadline and
// scheduling it, or a worker may die holding a task that a scheduler hands
// over ahead of its due time (asynq then gives it back only after a lease of
// up to two minutes). So a process that runs the timeout worker also
// submits stored deadlines itself: at start, those already due or about to
// be, and afterwards, every sweepEvery, those overdue by sweepAfter. The
// handler's guard makes a deadline that fires twice submit once.
const (
	// startWindow covers the longest a scheduler holds a task early.
	startWindow = 3 * time.Second
	sweepEvery  = 2 * time.Second
	// sweepAfter is longer than a scheduler takes to fire a burst of due
	// tasks, so that the sweep only picks up lost ones.
	sweepAfter = 3 * time.Second
	// maxSweepBackoff bounds the wait before a deadline whose submission
	// failed is tried again by the sweep.
	maxSweepBackoff = time.Minute
)

// storedDeadlines reads the deadlines of participants still on their timed
// page; if before is not zero, only those due before it.
func (e *engine) storedDeadlines(ctx context.Context, before time.Time) ([]timeouts.Task, error) {
	var rows []Participant
	q := e.store.r.WithContext(ctx).Select("id, expiry_page, expiry_at").
		Where("expiry_at IS NOT NULL AND page_index = expiry_page AND NOT is_bot")
	if !before.IsZero() {
		q = q.Where("expiry_at < ?", before)
	}
	err := q.Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read page deadlines: %w", err)
	}
	tasks := make([]timeouts.Task, len(rows))
	for i, p := range rows {
		tasks[i] = timeoutTaskFor(p.ID, p.ExpiryPage, *p.ExpiryAt)
	}
	return tasks, nil
}

func timeoutTaskFor(participantID int64, index int, at time.Time) timeouts.Task {
	payload, _ := json.Marshal(timeoutTask{participantID, index})
	return timeouts.Task{Key: timeoutKey(participantID, index), At: at, Payload: payload}
}

// rescheduleDeadlines schedules every stored deadline again. Those due
// within startWindow, including those that passed while no process ran,
// it submits itself, in goroutines on wg, as many at once as the
// scheduler would run: their task may be held by a worker that died, and
// scheduling a key that a worker holds waits for it.
func (e *engine) rescheduleDeadlines(ctx context.Context, wg *sync.WaitGroup) error {
	tasks, err := e.storedDeadlines(ctx, time.Time{})
	if err != nil {
		return err
	}
	soon := time.Now().Add(startWindow)
	slots := make(chan struct{}, e.deadlineConcurrency())
	for _, t := range tasks {
		if t.At.Before(soon) {
			wg.Go(func() {
				sleep(ctx, time.Until(t.At)) // before taking a slot
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-slots }()
				e.submitDeadline(ctx, t)
			})
			continue
		}
		if err := e.sched.Schedule(ctx, t); err != nil {
			e.log.Error("schedule page deadline", "key", t.Key, "err", err)
		}
	}
	if len(tasks) > 0 {
		e.log.Info("page deadlines scheduled", "count", len(tasks))
	}
	return nil
}

// submitDeadline runs the timeout handler for t in this process, once;
// if that fails, the scheduler's task or the sweep tries again.
func (e *engine) submitDeadline(ctx context.Context, t timeouts.Task) error {
	err := e.handleTimeout(ctx, t)
	if err != nil && ctx.Err() == nil {
		e.log.Warn("submit page deadline", "key", t.Key, "err", err)
	}
	return err
}

// sweepDeadlines submits, every sweepEvery until ctx is done, deadlines
// overdue by more than sweepAfter: their task was lost.
func (e *engine) sweepDeadlines(ctx context.Context) {
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	failed := map[string]sweepRetry{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		failed = e.sweep(ctx, failed)
	}
}

// A sweepRetry is when the sweep next tries a deadline whose submission
// failed, and how long it waited before that try.
type sweepRetry struct {
	next time.Time
	wait time.Duration
}

// sweep submits the overdue deadlines, skipping those in failed whose
// next try has not come, and returns the deadlines still failing.
func (e *engine) sweep(ctx context.Context, failed map[string]sweepRetry) map[string]sweepRetry {
	tasks, err := e.storedDeadlines(ctx, time.Now().Add(-sweepAfter))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("sweep page deadlines", "err", err)
		}
		return failed
	}

	still := map[string]sweepRetry{}
	for _, t := range tasks {
		r, seen := failed[t.Key]
		if seen && time.Now().Before(r.next) {
			still[t.Key] = r
			continue
		}
		e.log.Warn("page deadline overdue: its task was lost; submitting it", "key", t.Key, "due", t.At)
		if e.submitDeadline(ctx, t) != nil {
			r.wait = min(max(2*r.wait, sweepEvery), maxSweepBackoff)
			still[t.Key] = sweepRetry{time.Now().Add(r.wait), r.wait}
		}
	}
	return still
}
