package asynq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	hasynq "github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/gotree/gotree/timeouts"
	"github.com/gotree/gotree/timeouts/internal/ratelog"
)

// Options configure a [Scheduler]. A nil *Options, and a zero value in any
// field, selects the default.
type Options struct {
	// Queue names the asynq queue that holds the tasks. Processes that
	// share tasks use the same queue. Default "gotree-timeouts".
	Queue string

	// Concurrency is the most handlers Run calls at once. Default 16.
	Concurrency int

	// Prefetch is how many tasks Run may hold beyond those whose handlers
	// are running: tasks taken up to two seconds before they are due, and
	// due tasks waiting for a handler. When more tasks than this fall due
	// within two seconds, some fire late. Default 2048.
	Prefetch int

	// PollInterval is how often Run looks in Redis for tasks that fell due,
	// and how often Schedule and Cancel check on a running task they wait
	// for. Default 100 ms.
	PollInterval time.Duration

	// MinBackoff is the delay before a failed task runs again. Each further
	// failure of the same task doubles the delay, up to MaxBackoff.
	// Default 1 s.
	MinBackoff time.Duration

	// MaxBackoff caps the delay between runs of a failing task. Default
	// 1 min.
	MaxBackoff time.Duration

	// ShutdownTimeout is how long Run, once its context is done, lets
	// running handlers finish before it cancels their context; their tasks
	// then run again later. Default 10 s.
	ShutdownTimeout time.Duration

	// Logger receives handler errors and asynq's warnings, at most one
	// record per second of each. Default slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Queue == "" {
		c.Queue = "gotree-timeouts"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Prefetch <= 0 {
		c.Prefetch = 2048
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("queue", c.Queue)
	return c
}

// A Scheduler is a [timeouts.Scheduler] that keeps its tasks in Redis. It is
// safe for concurrent use. Make one with [New]; the zero value is not
// usable.
type Scheduler struct {
	opts   Options
	addr   string // Redis address, for messages
	rdb    redis.UniversalClient
	client *hasynq.Client
	insp   *hasynq.Inspector
	errlog *ratelog.Logger
	closed atomic.Bool
}

// pingTimeout bounds how long New waits for Redis to answer.
const pingTimeout = 5 * time.Second

// New connects to the Redis server at redisURL, of the form
// redis://[:password@]host[:port][/db] (or rediss://, redis-socket://,
// redis-sentinel://), and returns a Scheduler using it. opts may be nil.
//
// New checks that Redis answers; if it does not within 5 s, or before ctx
// is done, New returns an error naming the address.
func New(ctx context.Context, redisURL string, opts *Options) (*Scheduler, error) {
	connOpt, addr, err := parseURL(redisURL)
	if err != nil {
		return nil, err
	}
	rdb, ok := connOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("timeouts/asynq: unsupported Redis client for %s", addr)
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("timeouts/asynq: no answer from Redis at %s: %w", addr, err)
	}

	o := opts.withDefaults()
	return &Scheduler{
		opts:   o,
		addr:   addr,
		rdb:    rdb,
		client: hasynq.NewClientFromRedisClient(rdb),
		insp:   hasynq.NewInspectorFromRedisClient(rdb),
		errlog: ratelog.New(o.Logger, time.Second),
	}, nil
}

// parseURL parses a Redis URL into asynq's connection options and the
// address to name in messages, which holds no password.
func parseURL(raw string) (hasynq.RedisConnOpt, string, error) {
	if _, err := url.Parse(raw); err != nil {
		// A *url.Error repeats the URL, password included.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", fmt.Errorf("timeouts/asynq: parse Redis URL: %w", err)
	}
	connOpt, err := hasynq.ParseRedisURI(raw)
	if err != nil {
		return nil, "", fmt.Errorf("timeouts/asynq: parse Redis URL: %w", err)
	}
	switch o := connOpt.(type) {
	case hasynq.RedisClientOpt:
		if o.Network != "unix" {
			o.Addr = withPort(o.Addr)
		}
		return o, o.Addr, nil
	case hasynq.RedisFailoverClientOpt:
		for i, a := range o.SentinelAddrs {
			o.SentinelAddrs[i] = withPort(a)
		}
		return o, strings.Join(o.SentinelAddrs, ","), nil
	}
	return connOpt, "Redis", nil
}

// withPort adds Redis's default port to an address without one.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), "6379")
}

// Close releases the connection to Redis. Call it after Run has returned;
// later calls return [timeouts.ErrClosed]. Tasks stay in Redis.
func (s *Scheduler) Close() error {
	if s.closed.Swap(true) {
		return timeouts.ErrClosed
	}
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("timeouts/asynq: close connection to %s: %w", s.addr, err)
	}
	return nil
}
