// Package ratelog writes log records that repeat in a loop, such as a
// handler failing for every task, at a bounded rate.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A Logger writes records through a [slog.Logger], at most one per interval.
// It counts the records it drops and reports that count, under the key
// "dropped", on the next record it writes. A Logger is safe for concurrent
// use; the zero value is not usable.
type Logger struct {
	logger *slog.Logger
	every  time.Duration

	mu      sync.Mutex // guards next and dropped
	next    time.Time  // earliest time the next record may be written
	dropped int        // records dropped since the last one written
}

// New returns a Logger that writes through l at most one record every
// interval.
func New(l *slog.Logger, every time.Duration) *Logger {
	return &Logger{logger: l, every: every}
}

// Log writes a record at level with msg and args, unless a record was
// written less than the interval ago.
func (l *Logger) Log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if !l.logger.Enabled(ctx, level) {
		return
	}
	dropped, ok := l.admit(time.Now())
	if !ok {
		return
	}
	if dropped > 0 {
		args = append(args, slog.Int("dropped", dropped))
	}
	l.logger.Log(ctx, level, msg, args...)
}

// admit reports whether a record may be written at now and, if so, how many
// were dropped before it.
func (l *Logger) admit(now time.Time) (dropped int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.dropped++
		return 0, false
	}
	dropped, l.dropped = l.dropped, 0
	l.next = now.Add(l.every)
	return dropped, true
}
