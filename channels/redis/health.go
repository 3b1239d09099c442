package redis

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// logInterval is the least time between two reports that Redis is still
// unreachable.
const logInterval = 10 * time.Second

// A health follows whether Redis answers, from the outcome of every command,
// and logs when that changes.
type health struct {
	log  *slog.Logger
	down atomic.Bool // read on every command; written under mu

	// mu guards the fields below.
	mu       sync.Mutex
	since    time.Time // when Redis stopped answering
	logged   time.Time // when that was last reported
	failures int       // failures since then
}

// check records the outcome of a command that returned err, and returns err.
func (h *health) check(err error) error {
	switch {
	case isConnErr(err):
		h.failed(err)
	case !h.down.Load():
	case err == nil || isReply(err):
		h.restored()
	}
	return err
}

func (h *health) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if !h.down.Load() {
		h.down.Store(true)
		h.since, h.logged, h.failures = now, now, 0
		h.log.Warn("redis connection lost", "err", err)
		return
	}
	h.failures++
	if now.Sub(h.logged) >= logInterval {
		h.log.Warn("redis still unreachable", "err", err,
			"failures", h.failures, "down", now.Sub(h.since).Round(time.Second))
		h.logged, h.failures = now, 0
	}
}

func (h *health) restored() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down.Load() {
		h.down.Store(false)
		h.log.Info("redis connection restored", "down", time.Since(h.since).Round(time.Millisecond))
	}
}

// isReply reports whether err is an answer from Redis, such as a nil reply
// or an error reply, which shows that Redis is reachable.
func isReply(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}

// isConnErr reports whether err means that Redis could not be reached or is
// not ready yet: not any other answer from Redis, nor the end of the
// caller's context.
func isConnErr(err error) bool {
	if re, ok := rueidis.IsRedisErr(err); ok {
		return re.IsLoading()
	}
	return err != nil &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
