package asynq_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	hasynq "github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/gotree/gotree/timeouts"
	"github.com/gotree/gotree/timeouts/asynq"
	"github.com/gotree/gotree/timeouts/timeoutstest"
)

// redisURL returns the Redis server to test against: $REDIS_URL, or a local
// one. If it does not answer, tests skip, or fail under CI=true.
var redisURL = sync.OnceValues(func() (string, error) {
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	s, err := asynq.New(context.Background(), u, nil)
	if err != nil {
		return u, err
	}
	return u, s.Close()
})

// needRedis returns the Redis URL, or skips t if Redis is unreachable.
func needRedis(t testing.TB) string {
	t.Helper()
	u, err := redisURL()
	if err == nil {
		return u
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Redis is required under CI=true: %v", err)
	}
	t.Skipf("skipping: %v; start Redis with: "+
		`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""`, err)
	return ""
}

// newQueue returns a queue name no other test uses, and deletes the queue
// and every Redis key naming it when the test ends.
func newQueue(t testing.TB, url string) string {
	t.Helper()
	q := "timeoutstest-" + rand.Text()[:12]
	t.Cleanup(func() {
		connOpt, err := hasynq.ParseRedisURI(url)
		if err != nil {
			t.Fatal(err)
		}
		insp := hasynq.NewInspector(connOpt)
		defer insp.Close()
		if err := insp.DeleteQueue(q, true); err != nil && !errors.Is(err, hasynq.ErrQueueNotFound) {
			t.Errorf("delete queue %s: %v", q, err)
		}
		// asynq keeps counters after deleting a queue.
		rdb := connOpt.MakeRedisClient().(redis.UniversalClient)
		defer rdb.Close()
		ctx := context.Background()
		for _, pattern := range []string{"asynq:{" + q + "}:*", "gotree:{" + q + "}:*"} {
			keys, err := rdb.Keys(ctx, pattern).Result()
			if err == nil && len(keys) > 0 {
				err = rdb.Del(ctx, keys...).Err()
			}
			if err != nil {
				t.Errorf("delete keys %s: %v", pattern, err)
			}
		}
	})
	return q
}

// newScheduler returns a scheduler on a fresh queue, closed when the test
// ends.
func newScheduler(t testing.TB, url, queue string) *asynq.Scheduler {
	t.Helper()
	s, err := asynq.New(context.Background(), url, &asynq.Options{
		Queue:  queue,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	timeoutstest.Run(t, func(t *testing.T) timeouts.Scheduler {
		return newScheduler(t, url, newQueue(t, url))
	}, &timeoutstest.Options{
		MaxLateness:   300 * time.Millisecond,
		BatchLateness: time.Second,
		RetryWithin:   3 * time.Second,
	})
}

// start runs s until the test ends, recording handler calls on the
// returned channel.
func start(t *testing.T, s *asynq.Scheduler) <-chan timeouts.Task {
	fired := make(chan timeouts.Task, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(_ context.Context, task timeouts.Task) error {
			fired <- task
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return fired
}

// expect fails t unless the next call is for want, within 5 s.
func expect(t *testing.T, fired <-chan timeouts.Task, want string) {
	t.Helper()
	select {
	case got := <-fired:
		if got.Key+"/"+string(got.Payload) != want {
			t.Fatalf("handler got %s/%s, want %s", got.Key, got.Payload, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("handler not called for %s within 5s", want)
	}
}

func schedule(t *testing.T, s timeouts.Scheduler, key, payload string, at time.Time) {
	t.Helper()
	task := timeouts.Task{Key: key, At: at, Payload: []byte(payload)}
	if err := s.Schedule(context.Background(), task); err != nil {
		t.Fatal(err)
	}
}

// TestDurable ensures a task outlives the scheduler that scheduled it: one
// that only schedules, then closes, and whose task falls due while no
// worker runs.
func TestDurable(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	queue := newQueue(t, url)
	at := time.Now().Add(300 * time.Millisecond)
	web := newScheduler(t, url, queue)
	schedule(t, web, "k", "p", at)
	if err := web.Close(); err != nil {
		t.Fatal(err)
	}

	time.Sleep(time.Until(at)) // the worker is down when the task falls due
	worker := newScheduler(t, url, queue)
	fired := start(t, worker)
	expect(t, fired, "k/p")
	select {
	case got := <-fired:
		t.Fatalf("handler called again, for %s", got.Key)
	case <-time.After(time.Second):
	}
}

// TestKeyFreeAfterCompletion ensures a key can be scheduled again, with the
// same task even, once its task has run.
func TestKeyFreeAfterCompletion(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	s := newScheduler(t, url, newQueue(t, url))
	fired := start(t, s)
	at := time.Now()
	for range 3 {
		schedule(t, s, "k", "p", at)
		expect(t, fired, "k/p")
	}
}

// TestEarlyTaskRevoked ensures a task taken from Redis ahead of its due
// time, because Redis keeps whole seconds, is still replaced or cancelled.
func TestEarlyTaskRevoked(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	queue := newQueue(t, url)
	s := newScheduler(t, url, queue)
	fired := start(t, s)
	insp := newInspector(t, url)

	// Run holds both tasks for a while before they are due.
	at := time.Now().Add(1500 * time.Millisecond)
	schedule(t, s, "replaced", "old", at)
	schedule(t, s, "cancelled", "p", at)
	waitActive(t, insp, queue, "replaced", "cancelled")
	schedule(t, s, "replaced", "new", at)
	if err := s.Cancel(context.Background(), "cancelled"); err != nil {
		t.Fatal(err)
	}
	if time.Now().After(at) {
		t.Fatalf("Schedule and Cancel of held tasks returned after their due time; " +
			"they should interrupt the wait")
	}
	schedule(t, s, "sentinel", "p", at.Add(500*time.Millisecond))

	expect(t, fired, "replaced/new")
	expect(t, fired, "sentinel/p")
}

// TestRevokedWithoutSignal ensures a held task that was revoked is dropped
// at its due time even if the signal interrupting its wait was lost.
func TestRevokedWithoutSignal(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	queue := newQueue(t, url)
	s := newScheduler(t, url, queue)
	fired := start(t, s)
	insp := newInspector(t, url)

	at := time.Now().Add(1500 * time.Millisecond)
	schedule(t, s, "revoked", "p", at)
	waitActive(t, insp, queue, "revoked")
	if err := s.MarkRevoked(context.Background(), "revoked"); err != nil {
		t.Fatal(err)
	}
	schedule(t, s, "sentinel", "p", at.Add(500*time.Millisecond))

	expect(t, fired, "sentinel/p")
	if _, err := insp.GetTaskInfo(queue, queue+"/revoked"); !errors.Is(err, hasynq.ErrTaskNotFound) {
		t.Fatalf("GetTaskInfo of the revoked task = %v, want %v", err, hasynq.ErrTaskNotFound)
	}
}

// newInspector returns an asynq Inspector, closed when the test ends.
func newInspector(t *testing.T, url string) *hasynq.Inspector {
	t.Helper()
	connOpt, err := hasynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	insp := hasynq.NewInspector(connOpt)
	t.Cleanup(func() { insp.Close() })
	return insp
}

// waitActive waits until Run has taken the tasks under keys from Redis.
// Redis cannot notify it, so it polls.
func waitActive(t *testing.T, insp *hasynq.Inspector, queue string, keys ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for _, key := range keys {
		for {
			info, err := insp.GetTaskInfo(queue, queue+"/"+key) // the task ID
			if err != nil {
				t.Fatal(err)
			}
			if info.State == hasynq.TaskStateActive {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %q still %v, want active", key, info.State)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	url := needRedis(t)
	s := newScheduler(t, url, newQueue(t, url))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"Schedule": s.Schedule(ctx, timeouts.Task{Key: "k"}),
		"Cancel":   s.Cancel(ctx, "k"),
		"Run":      s.Run(ctx, func(context.Context, timeouts.Task) error { return nil }),
		"Close":    s.Close(),
	} {
		if !errors.Is(err, timeouts.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", name, err, timeouts.ErrClosed)
		}
	}
}

func TestNewUnreachable(t *testing.T) {
	t.Parallel()
	// A server that accepts connections but never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() }) // after the parallel subtests
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()

	tests := []struct {
		name, url, addr string
	}{
		{"refused", "redis://127.0.0.1:1/0", "127.0.0.1:1"},
		{"silent", "redis://" + silent.Addr().String() + "/0", silent.Addr().String()},
		{"default port", "redis://user:secret@127.0.0.2", "127.0.0.2:6379"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			begin := time.Now()
			s, err := asynq.New(context.Background(), tt.url, nil)
			if err == nil {
				s.Close()
				t.Fatalf("New(%q) succeeded, want an error", tt.url)
			}
			if d := time.Since(begin); d > 6*time.Second {
				t.Errorf("New(%q) took %v, want at most about 5s", tt.url, d)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.addr) || strings.Contains(msg, "secret") {
				t.Errorf("New(%q) = %q, want it to name %s and no password", tt.url, msg, tt.addr)
			}
		})
	}
}

func TestNewBadURL(t *testing.T) {
	bad := []string{"http://127.0.0.1:6379", "redis://user:secret@[::1", "redis://127.0.0.1:6379/x"}
	for _, u := range bad {
		_, err := asynq.New(context.Background(), u, nil)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%q) = %v, want an error without the password", u, err)
		}
	}
}

// BenchmarkSameSecond reports how late the asynq scheduler runs 1,000 tasks
// due within one second with a trivial handler. Each iteration takes about
// two seconds, most of it waiting for the second to come.
func BenchmarkSameSecond(b *testing.B) {
	url := needRedis(b)
	var worst, p99, p50 time.Duration
	for b.Loop() {
		s := newScheduler(b, url, newQueue(b, url))
		lateness := timeoutstest.MeasureSameSecond(b, s, 1000)
		worst = max(worst, lateness[len(lateness)-1])
		p99 = max(p99, lateness[len(lateness)*99/100])
		p50 = max(p50, lateness[len(lateness)/2])
	}
	// The largest of each iteration's figures.
	b.ReportMetric(ms(worst), "worst-late-ms")
	b.ReportMetric(ms(p99), "p99-late-ms")
	b.ReportMetric(ms(p50), "p50-late-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
