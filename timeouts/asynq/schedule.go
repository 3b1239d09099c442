package asynq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	hasynq "github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/gotree/gotree/timeouts"
)

// Schedule adds t, replacing any task with the same key. If the task under
// that key is running, Schedule waits for its handler to return first, or
// for ctx to be done; a task taken from Redis ahead of its due time counts as
// running, but is dropped rather than run. Scheduling again a task that has
// not run, with the same due time and payload, changes nothing.
//
// Schedule works without Run, in any process connected to the same Redis.
func (s *Scheduler) Schedule(ctx context.Context, t timeouts.Task) error {
	if t.Key == "" {
		return timeouts.ErrNoKey
	}
	if s.closed.Load() {
		return timeouts.ErrClosed
	}
	if err := s.schedule(ctx, t); err != nil {
		return fmt.Errorf("timeouts/asynq: schedule %q: %w", t.Key, err)
	}
	return nil
}

// maxAttempts bounds how often schedule tries to enqueue, should other
// callers keep taking the key first.
const maxAttempts = 10

func (s *Scheduler) schedule(ctx context.Context, t timeouts.Task) error {
	task := newTask(t)
	for range maxAttempts {
		err := s.enqueue(ctx, s.taskID(t.Key), task, t.At)
		if !errors.Is(err, hasynq.ErrTaskIDConflict) {
			return err
		}

		// Another task holds the key: keep it if it is the same and has
		// not run, else delete it and try again.
		info, err := s.insp.GetTaskInfo(s.opts.Queue, s.taskID(t.Key))
		switch {
		case gone(err):
			continue
		case err != nil:
			return err
		case notRun(info, t.At) && sameTask(info.Payload, task.Payload()):
			return nil
		}
		if err := s.remove(ctx, t.Key); err != nil {
			return err
		}
	}
	return fmt.Errorf("task ID still taken after %d attempts", maxAttempts)
}

// lead is how long before its due time a task is handed to Run, which then
// holds it until it is due. Redis keeps process times in whole seconds, so
// the task comes between one and two leads early. The lead absorbs polling
// delays and lets Run fetch a burst of tasks, one Redis call each, before
// they are due.
const lead = time.Second

// enqueue adds task under the given ID, due at at.
func (s *Scheduler) enqueue(ctx context.Context, id string, task *hasynq.Task, at time.Time) error {
	_, err := s.client.EnqueueContext(ctx, task,
		hasynq.TaskID(id),
		hasynq.Queue(s.opts.Queue),
		hasynq.ProcessAt(at.Add(-lead)),
		hasynq.MaxRetry(math.MaxInt32),
		hasynq.Retention(0), // free the key as soon as the task completes
	)
	return err
}

// Cancel removes the task with the given key, if any. If its handler is
// running, Cancel waits for it to return, or for ctx to be done, so that
// the task is not retried; a task taken from Redis ahead of its due time is
// dropped rather than run.
func (s *Scheduler) Cancel(ctx context.Context, key string) error {
	if s.closed.Load() {
		return timeouts.ErrClosed
	}
	if key == "" {
		return nil
	}
	if err := s.remove(ctx, key); err != nil {
		return fmt.Errorf("timeouts/asynq: cancel %q: %w", key, err)
	}
	return nil
}

// maxOddFailures bounds how often remove retries a delete that failed for a
// task that is not running.
const maxOddFailures = 3

// remove deletes the task under key. asynq cannot delete a running task, so
// remove revokes it, in case it is only waiting for its due time, and tries
// again every PollInterval until the task is gone or can be deleted.
func (s *Scheduler) remove(ctx context.Context, key string) error {
	id := s.taskID(key)
	revoked := false
	for odd := 0; ; {
		err := s.insp.DeleteTask(s.opts.Queue, id)
		if err == nil || gone(err) {
			return nil
		}
		info, ierr := s.insp.GetTaskInfo(s.opts.Queue, id)
		switch {
		case gone(ierr):
			return nil
		case ierr != nil:
			return fmt.Errorf("delete task: %w", err)
		case info.State != hasynq.TaskStateActive:
			if odd++; odd > maxOddFailures {
				return fmt.Errorf("delete task: %w", err)
			}
			continue
		}
		if !revoked {
			if err := s.revoke(ctx, id, info.Payload); err != nil {
				return err
			}
			revoked = true
		}
		if err := sleep(ctx, s.opts.PollInterval); err != nil {
			return err
		}
	}
}

// taskID returns the asynq task ID for key. asynq sends cancellation signals
// to every queue, so the ID names the queue too.
func (s *Scheduler) taskID(key string) string {
	return s.opts.Queue + "/" + key
}

// key returns the key of the task with the given asynq ID.
func (s *Scheduler) key(id string) string {
	return strings.TrimPrefix(id, s.opts.Queue+"/")
}

// revokedTTL is how long a revocation marker lives. A task waits at most two
// seconds for its due time, so a minute covers slow workers and clock skew.
const revokedTTL = time.Minute

// revokedKey returns the Redis key marking the task with the given ID as
// revoked. The braces put it in the Redis Cluster slot of asynq's keys for
// the queue.
func (s *Scheduler) revokedKey(id string) string {
	return "gotree:{" + s.opts.Queue + "}:revoked:" + id
}

// revoke marks the running task with the given ID and encoded payload as
// revoked. If the task is not due yet, its handler has not begun: revoke
// also interrupts its wait, so that it ends now rather than at its due time.
func (s *Scheduler) revoke(ctx context.Context, id string, payload []byte) error {
	if err := s.rdb.Set(ctx, s.revokedKey(id), version(payload), revokedTTL).Err(); err != nil {
		return fmt.Errorf("mark running task revoked: %w", err)
	}
	if t, _, err := decode(taskType, payload); err == nil && time.Now().Before(t.At) {
		// Best effort: if the signal is lost, the task ends at its due time.
		_ = s.insp.CancelProcessing(id)
	}
	return nil
}

// revoked reports whether the given version of the task with the given ID
// was revoked. If Redis cannot tell, the task counts as not revoked: running
// it twice is safer than dropping it.
func (s *Scheduler) revoked(ctx context.Context, id string, version []byte) bool {
	v, err := s.rdb.Get(ctx, s.revokedKey(id)).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		s.errlog.Log(ctx, slog.LevelWarn, "check for revoked timeout task", "id", id, "err", err)
	}
	return err == nil && bytes.Equal(v, version)
}

// gone reports whether err says the task or its queue does not exist.
func gone(err error) bool {
	return errors.Is(err, hasynq.ErrTaskNotFound) || errors.Is(err, hasynq.ErrQueueNotFound)
}

// notRun reports whether a task due at at has not begun to run: it waits
// in Redis, or Run holds it until it is due.
func notRun(info *hasynq.TaskInfo, at time.Time) bool {
	switch info.State {
	case hasynq.TaskStateScheduled, hasynq.TaskStatePending:
		return true
	case hasynq.TaskStateActive:
		return time.Now().Before(at)
	}
	return false
}

// sleep waits for d, or returns ctx's error if ctx is done first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
