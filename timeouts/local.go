package timeouts

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gotree/gotree/timeouts/internal/ratelog"
)

// LocalOptions configure a [Local] scheduler. A nil *LocalOptions, and a zero
// value in any field, selects the default.
type LocalOptions struct {
	// Concurrency is the most handlers that run at once. Default 16.
	Concurrency int

	// MinBackoff is the delay before a failed task runs again. Each further
	// failure of the same task doubles the delay, up to MaxBackoff.
	// Default 1 s.
	MinBackoff time.Duration

	// MaxBackoff caps the delay between runs of a failing task. Default
	// 1 min.
	MaxBackoff time.Duration

	// ShutdownTimeout is how long Run, once its context is done, lets
	// running handlers finish before it cancels their context. Default 10 s.
	ShutdownTimeout time.Duration

	// Logger receives handler errors, at most one record per second.
	// Default slog.Default().
	Logger *slog.Logger
}

// A Local is a [Scheduler] that keeps its tasks in memory and runs them in
// the calling process. Tasks scheduled before [Local.Run] wait for it.
//
// One timer, set to the earliest due time, wakes Local; it does not poll.
//
// The zero Local is ready to use with default options. A Local is safe for
// concurrent use; it must not be copied after first use.
type Local struct {
	opts    LocalOptions
	once    sync.Once
	errlog  *ratelog.Logger
	changed chan struct{} // holds a token when the queue changed under Run

	mu      sync.Mutex        // guards the fields below
	queue   queue             // waiting tasks, earliest due first
	byKey   map[string]*entry // waiting and running tasks by key
	running bool              // Run has started
	closed  bool              // Run's context is done
}

// NewLocal returns a Local configured by opts, which may be nil. It copies
// opts; later changes to it have no effect.
func NewLocal(opts *LocalOptions) *Local {
	l := new(Local)
	if opts != nil {
		l.opts = *opts
	}
	return l
}

// init fills in defaults on first use.
func (l *Local) init() {
	l.once.Do(func() {
		o := &l.opts
		if o.Concurrency <= 0 {
			o.Concurrency = 16
		}
		if o.MinBackoff <= 0 {
			o.MinBackoff = time.Second
		}
		if o.MaxBackoff <= 0 {
			o.MaxBackoff = time.Minute
		}
		o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
		if o.ShutdownTimeout <= 0 {
			o.ShutdownTimeout = 10 * time.Second
		}
		if o.Logger == nil {
			o.Logger = slog.Default()
		}
		l.errlog = ratelog.New(o.Logger, time.Second)
		l.changed = make(chan struct{}, 1)
		l.byKey = make(map[string]*entry)
	})
}

// Schedule adds t, replacing any task with the same key, even one whose
// handler is running: if that handler fails, only the new task runs again.
// Schedule copies t.Payload. After Run's context is done it returns
// [ErrClosed].
func (l *Local) Schedule(ctx context.Context, t Task) error {
	if t.Key == "" {
		return ErrNoKey
	}
	l.init()
	t.Payload = bytes.Clone(t.Payload)
	e := &entry{task: t, due: t.At}

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.remove(t.Key)
	l.byKey[t.Key] = e
	heap.Push(&l.queue, e)
	l.mu.Unlock()

	l.notify()
	return nil
}

// Cancel removes the task with the given key, if any. A handler already
// running for it is not interrupted, but is not retried if it fails. After
// Run's context is done Cancel returns [ErrClosed].
func (l *Local) Cancel(ctx context.Context, key string) error {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.remove(key)
	return nil
}

// remove drops the task under key from the scheduler. l.mu must be held.
func (l *Local) remove(key string) {
	e, ok := l.byKey[key]
	if !ok {
		return
	}
	delete(l.byKey, key)
	if e.index >= 0 {
		heap.Remove(&l.queue, e.index)
	}
}

// notify tells Run that the queue changed, so that it sets its timer anew.
func (l *Local) notify() {
	select {
	case l.changed <- struct{}{}:
	default: // a token is already waiting
	}
}

// Run calls h for each task as it falls due, at most Concurrency at once,
// until ctx is done; it then waits for running handlers and returns nil.
// Handlers get a context that carries ctx's values but is cancelled only
// ShutdownTimeout after ctx is done, so that a handler caught by a shutdown
// can finish its work.
//
// Run may be called once. When ctx is done the Local is closed: later calls
// return [ErrClosed], and tasks still waiting are dropped.
func (l *Local) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("timeouts: Run with a nil Handler")
	}
	l.init()
	if err := l.start(); err != nil {
		return err
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()

	var wg sync.WaitGroup
	l.dispatch(ctx, hctx, h, &wg)

	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.drain(&wg, cancel)
	return nil
}

// start marks the scheduler as running.
func (l *Local) start() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.running:
		return errors.New("timeouts: Local.Run called twice")
	}
	l.running = true
	return nil
}

// dispatch starts a handler for each task as it falls due, at most
// Concurrency at once, until ctx is done. Handlers run with hctx.
func (l *Local) dispatch(ctx, hctx context.Context, h Handler, wg *sync.WaitGroup) {
	slots := make(chan struct{}, l.opts.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Take a slot first, so that a task stays cancellable until it runs.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		e, wait := l.pop(time.Now())
		if e != nil {
			wg.Go(func() {
				defer func() { <-slots }()
				l.run(hctx, h, e)
			})
			continue
		}
		<-slots
		if !l.sleep(ctx, timer, wait) {
			return
		}
	}
}

// pop removes and returns the earliest task if it is due at now. Otherwise it
// returns how long until the earliest task is due, or -1 if none is waiting.
func (l *Local) pop(now time.Time) (*entry, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) == 0 {
		return nil, -1
	}
	if wait := l.queue[0].due.Sub(now); wait > 0 {
		return nil, wait
	}
	return heap.Pop(&l.queue).(*entry), 0
}

// sleep waits for wait to pass, or for the queue to change; a negative wait
// waits for a change only. It reports false if ctx is done first.
func (l *Local) sleep(ctx context.Context, timer *time.Timer, wait time.Duration) bool {
	timer.Stop()
	if wait >= 0 {
		timer.Reset(wait)
	}
	select {
	case <-ctx.Done():
		return false
	case <-l.changed:
	case <-timer.C:
	}
	return true
}

// run calls h for e, and schedules e again with back-off if h fails.
func (l *Local) run(ctx context.Context, h Handler, e *entry) {
	err := call(ctx, h, e.task)
	if err == nil {
		l.finish(e)
		return
	}
	delay := l.backoff(e.tries)
	l.errlog.Log(ctx, slog.LevelError, "timeout handler failed",
		"key", e.task.Key, "attempt", e.tries+1, "retry_in", delay, "err", err)
	l.retry(e, delay)
}

// call calls h, turning a panic into an error.
func call(ctx context.Context, h Handler, t Task) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("timeouts: handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, t)
}

// backoff returns the delay before a task that has failed tries times before
// runs again.
func (l *Local) backoff(tries int) time.Duration {
	d := l.opts.MinBackoff
	for range tries {
		if d >= l.opts.MaxBackoff/2 {
			return l.opts.MaxBackoff
		}
		d *= 2
	}
	return d
}

// finish forgets e after its handler succeeded.
func (l *Local) finish(e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKey[e.task.Key] == e {
		delete(l.byKey, e.task.Key)
	}
}

// retry queues e again, due after delay, unless it was replaced or cancelled
// while its handler ran.
func (l *Local) retry(e *entry, delay time.Duration) {
	l.mu.Lock()
	if l.byKey[e.task.Key] != e {
		l.mu.Unlock()
		return
	}
	e.tries++
	e.due = time.Now().Add(delay)
	heap.Push(&l.queue, e)
	l.mu.Unlock()
	l.notify()
}

// drain waits for running handlers. Once ShutdownTimeout has passed it
// cancels their context and keeps waiting.
func (l *Local) drain(wg *sync.WaitGroup, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(l.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		cancel()
		<-done
	}
}
