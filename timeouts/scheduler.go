package timeouts

import (
	"context"
	"errors"
	"time"
)

// A Task is a unit of work that falls due at a given time.
type Task struct {
	Key     string    // unique, non-empty name; scheduling the same key again replaces the task
	At      time.Time // when the task falls due
	Payload []byte    // passed to the Handler unchanged
}

// A Handler runs a task that fell due. Returning an error makes the scheduler
// retry the task later. The task passed in carries the At it was scheduled
// with, also on retries.
type Handler func(ctx context.Context, t Task) error

// A Scheduler runs tasks at their due time. Implementations are safe for
// concurrent use.
type Scheduler interface {
	// Schedule adds t, replacing any task with the same key. It returns an
	// error wrapping ErrNoKey if t.Key is empty.
	Schedule(ctx context.Context, t Task) error

	// Cancel removes the task with the given key, if any.
	Cancel(ctx context.Context, key string) error

	// Run calls h for each task as it falls due, until ctx is done. It
	// returns after handlers in flight have returned.
	Run(ctx context.Context, h Handler) error
}

var (
	// ErrClosed is returned by calls on a scheduler that has stopped.
	ErrClosed = errors.New("timeouts: scheduler is closed")

	// ErrNoKey is returned by Schedule for a task whose Key is empty.
	ErrNoKey = errors.New("timeouts: task has no key")
)
