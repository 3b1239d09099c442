package asynq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	hasynq "github.com/hibiken/asynq"

	"github.com/gotree/gotree/timeouts"
)

// Run starts an asynq server on the scheduler's queue and calls h for each
// task as it falls due, at most Concurrency at once, until ctx is done; it
// then waits for running handlers and returns nil. Handlers get a context
// that carries ctx's values but is cancelled only ShutdownTimeout after ctx
// is done; a task whose handler is cut short so runs again later.
//
// Tasks that Run holds ahead of their due time when ctx is done still run at
// that time, so stopping may take up to two seconds longer.
//
// Any number of processes may run the same queue; each task goes to one of
// them at a time. Run returns [timeouts.ErrClosed] after Close.
func (s *Scheduler) Run(ctx context.Context, h timeouts.Handler) error {
	if h == nil {
		return errors.New("timeouts/asynq: Run with a nil Handler")
	}
	if s.closed.Load() {
		return timeouts.ErrClosed
	}
	w := &worker{s: s, h: h, slots: make(chan struct{}, s.opts.Concurrency)}
	srv := hasynq.NewServerFromRedisClient(s.rdb, s.config(ctx))
	if err := srv.Start(w); err != nil {
		return fmt.Errorf("timeouts/asynq: start worker: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	w.stop()
	return nil
}

// config returns the asynq server configuration for Run(ctx, …).
func (s *Scheduler) config(ctx context.Context) hasynq.Config {
	o := &s.opts
	return hasynq.Config{
		Concurrency:              o.Concurrency + o.Prefetch,
		BaseContext:              func() context.Context { return context.WithoutCancel(ctx) },
		Queues:                   map[string]int{o.Queue: 1},
		DelayedTaskCheckInterval: o.PollInterval,
		TaskCheckInterval:        o.PollInterval / 2, // asynq waits 0.5 to 1.5 times this
		RetryDelayFunc:           s.retryDelay,
		ShutdownTimeout:          o.ShutdownTimeout,
		Logger:                   newLogger(o.Logger),
		LogLevel:                 hasynq.WarnLevel,
	}
}

// retryDelay returns the delay before a task that has failed n times before
// runs again.
func (s *Scheduler) retryDelay(n int, _ error, _ *hasynq.Task) time.Duration {
	d := s.opts.MinBackoff
	for range n {
		if d >= s.opts.MaxBackoff/2 {
			return s.opts.MaxBackoff
		}
		d *= 2
	}
	return d
}

// A worker calls the handler for the tasks an asynq server hands it. It
// implements [hasynq.Handler].
type worker struct {
	s     *Scheduler
	h     timeouts.Handler
	slots chan struct{} // one token per running handler

	mu      sync.Mutex     // guards stopped, and orders running.Add before Wait
	stopped bool           // Run is returning
	running sync.WaitGroup // calls of ProcessTask in progress
}

// errStopped is returned for a task handed over after Run stopped waiting;
// asynq has already put the task back in the queue.
var errStopped = errors.New("timeouts/asynq: worker stopped")

// ProcessTask waits until the task is due, unless it was revoked meanwhile,
// then calls the handler.
func (w *worker) ProcessTask(ctx context.Context, at *hasynq.Task) error {
	if !w.enter() {
		return errStopped
	}
	defer w.running.Done()

	t, version, err := decode(at.Type(), at.Payload())
	if err != nil {
		w.s.errlog.Log(ctx, slog.LevelError, "drop foreign task", "err", err)
		return fmt.Errorf("timeouts/asynq: %w: %w", err, hasynq.SkipRetry)
	}
	id, _ := hasynq.GetTaskID(ctx)
	t.Key = w.s.key(id)

	// The task comes early (see lead); wait until it is due. Schedule and
	// Cancel interrupt the wait of a task they revoke.
	if early := time.Until(t.At); early > 0 {
		err := sleep(ctx, early)
		if w.s.revoked(context.WithoutCancel(ctx), id, version) {
			return nil // done: asynq deletes the task
		}
		if err != nil {
			return err
		}
	}

	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.slots }()
	return w.call(ctx, t)
}

// call calls the handler, turning a panic into an error, and logs failures.
func (w *worker) call(ctx context.Context, t timeouts.Task) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("timeouts/asynq: handler panicked: %v\n%s", r, debug.Stack())
		}
		if err != nil {
			retried, _ := hasynq.GetRetryCount(ctx)
			w.s.errlog.Log(ctx, slog.LevelError, "timeout handler failed",
				"key", t.Key, "attempt", retried+1, "retry_in", w.s.retryDelay(retried, err, nil), "err", err)
		}
	}()
	return w.h(ctx, t)
}

// enter reports whether a task may start, counting it as running if so.
func (w *worker) enter() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return false
	}
	w.running.Add(1)
	return true
}

// stop refuses further tasks and waits for those running. The asynq server
// gives up waiting for handlers after ShutdownTimeout; stop does not.
func (w *worker) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.running.Wait()
}
