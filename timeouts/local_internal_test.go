package timeouts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A calls records handler calls.
type calls struct {
	mu    sync.Mutex
	times map[string][]time.Time
	tasks []Task
}

func (c *calls) record(t Task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil {
		c.times = make(map[string][]time.Time)
	}
	c.times[t.Key] = append(c.times[t.Key], time.Now())
	c.tasks = append(c.tasks, t)
}

func (c *calls) of(key string) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.times[key]...)
}

// ok is a handler that records the call and succeeds.
func (c *calls) ok(_ context.Context, t Task) error {
	c.record(t)
	return nil
}

// fail is a handler that records the call and fails.
func (c *calls) fail(_ context.Context, t Task) error {
	c.record(t)
	return errors.New("boom")
}

// start runs l with h in the background and returns a function that stops
// it and returns what Run returned.
func start(l *Local, h Handler) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, h) }()
	return func() error {
		cancel()
		return <-done
	}
}

func mustSchedule(t *testing.T, l *Local, task Task) {
	t.Helper()
	if err := l.Schedule(context.Background(), task); err != nil {
		t.Fatalf("Schedule(%q) = %v", task.Key, err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestLocalFiresExactlyAtDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		var l Local // the zero value is usable
		l.opts.Logger = quiet()
		stop := start(&l, c.ok)
		defer stop()

		// A far task sets the timer; a nearer one must reset it.
		far := time.Now().Add(time.Hour)
		near := time.Now().Add(5 * time.Second)
		mustSchedule(t, &l, Task{Key: "far", At: far})
		synctest.Wait()
		mustSchedule(t, &l, Task{Key: "near", At: near})

		time.Sleep(time.Hour)
		synctest.Wait()
		for key, want := range map[string]time.Time{"near": near, "far": far} {
			got := c.of(key)
			if len(got) != 1 || !got[0].Equal(want) {
				t.Errorf("calls for %q at %v, want one at %v", key, got, want)
			}
		}
	})
}

func TestLocalBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		l := NewLocal(&LocalOptions{Logger: quiet()})
		stop := start(l, c.fail)
		defer stop()

		at := time.Now()
		mustSchedule(t, l, Task{Key: "k", At: at})
		time.Sleep(5 * time.Minute)
		synctest.Wait()

		// Defaults: 1 s doubling up to 1 min.
		want := []time.Duration{0, 1, 3, 7, 15, 31, 63, 123, 183, 243}
		got := c.of("k")
		if len(got) != len(want) {
			t.Fatalf("%d calls in 5 min, want %d: %v", len(got), len(want), got)
		}
		for i, w := range want {
			if d := got[i].Sub(at); d != w*time.Second {
				t.Errorf("call %d at +%v, want +%v", i, d, w*time.Second)
			}
		}
	})
}

func TestLocalNoRetryAfterReplaceOrCancel(t *testing.T) {
	tests := []struct {
		name   string
		change func(l *Local) error
		want   int // calls after the failed one
	}{
		{"replace", func(l *Local) error {
			return l.Schedule(context.Background(), Task{Key: "k", At: time.Now().Add(time.Hour)})
		}, 1},
		{"cancel", func(l *Local) error {
			return l.Cancel(context.Background(), "k")
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var c calls
				release := make(chan struct{})
				h := func(ctx context.Context, task Task) error {
					<-release
					if string(task.Payload) == "old" {
						return c.fail(ctx, task)
					}
					return c.ok(ctx, task)
				}
				l := NewLocal(&LocalOptions{Logger: quiet()})
				stop := start(l, h)
				defer stop()

				mustSchedule(t, l, Task{Key: "k", At: time.Now(), Payload: []byte("old")})
				synctest.Wait() // the handler is running
				if err := tt.change(l); err != nil {
					t.Fatal(err)
				}
				close(release)
				time.Sleep(2 * time.Hour)
				synctest.Wait()
				if got := len(c.of("k")); got != 1+tt.want {
					t.Fatalf("%d calls, want %d", got, 1+tt.want)
				}
			})
		})
	}
}

func TestLocalConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		running, peak := 0, 0
		release := make(chan struct{})
		h := func(ctx context.Context, task Task) error {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			<-release
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		}
		l := NewLocal(&LocalOptions{Concurrency: 3})
		stop := start(l, h)
		defer stop()
		for _, key := range strings.Split("abcdefghij", "") {
			mustSchedule(t, l, Task{Key: key, At: time.Now()})
		}
		synctest.Wait()
		mu.Lock()
		if running != 3 {
			t.Errorf("%d handlers running, want 3", running)
		}
		mu.Unlock()
		close(release)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if peak != 3 || running != 0 {
			t.Errorf("peak %d handlers, %d still running; want 3 and 0", peak, running)
		}
	})
}

func TestLocalShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := func(ctx context.Context, task Task) error {
			<-ctx.Done()
			return ctx.Err()
		}
		l := NewLocal(&LocalOptions{ShutdownTimeout: 3 * time.Second, Logger: quiet()})
		stop := start(l, h)
		mustSchedule(t, l, Task{Key: "k", At: time.Now()})
		synctest.Wait()

		begin := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		if d := time.Since(begin); d != 3*time.Second {
			t.Fatalf("Run returned %v after its context was done, want 3s", d)
		}
	})
}

func TestLocalClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLocal(nil)
		stop := start(l, (&calls{}).ok)
		synctest.Wait()
		if err := l.Run(context.Background(), (&calls{}).ok); err == nil {
			t.Errorf("second Run while running = nil, want an error")
		}
		if err := stop(); err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}

		ctx := context.Background()
		for name, err := range map[string]error{
			"Schedule": l.Schedule(ctx, Task{Key: "k"}),
			"Cancel":   l.Cancel(ctx, "k"),
			"Run":      l.Run(ctx, (&calls{}).ok),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Run returned = %v, want %v", name, err, ErrClosed)
			}
		}
	})
}

func TestLocalPanicIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		panicked := false
		h := func(ctx context.Context, task Task) error {
			if !panicked {
				panicked = true
				panic("oops")
			}
			return c.ok(ctx, task)
		}
		l := NewLocal(&LocalOptions{Logger: quiet()})
		stop := start(l, h)
		defer stop()
		mustSchedule(t, l, Task{Key: "k", At: time.Now()})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := len(c.of("k")); got != 1 {
			t.Fatalf("%d successful calls after a panic, want 1", got)
		}
	})
}

func TestLocalCopiesPayload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		l := NewLocal(nil)
		stop := start(l, c.ok)
		defer stop()
		payload := []byte("before")
		mustSchedule(t, l, Task{Key: "k", At: time.Now().Add(time.Second), Payload: payload})
		copy(payload, "after!")
		time.Sleep(time.Second)
		synctest.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.tasks) != 1 || string(c.tasks[0].Payload) != "before" {
			t.Fatalf("handler got %q, want one task with payload %q", c.tasks, "before")
		}
	})
}

// A counter is a slog.Handler that counts records.
type counter struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *counter) Enabled(context.Context, slog.Level) bool { return true }
func (c *counter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *counter) WithGroup(string) slog.Handler            { return c }

func (c *counter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, r)
	return nil
}

func TestLocalLogsFailuresAtABoundedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs counter
		l := NewLocal(&LocalOptions{Logger: slog.New(&logs), MinBackoff: time.Hour})
		stop := start(l, (&calls{}).fail)
		defer stop()
		for i := range 100 {
			mustSchedule(t, l, Task{Key: strings.Repeat("k", i+1), At: time.Now()})
		}
		synctest.Wait()

		logs.mu.Lock()
		defer logs.mu.Unlock()
		if len(logs.records) != 1 {
			t.Fatalf("%d records for 100 failures at once, want 1", len(logs.records))
		}
		r := logs.records[0]
		var hasKey, hasErr bool
		r.Attrs(func(a slog.Attr) bool {
			hasKey = hasKey || a.Key == "key"
			hasErr = hasErr || a.Key == "err"
			return true
		})
		if r.Level != slog.LevelError || !hasKey || !hasErr {
			t.Fatalf("record %v: want level ERROR with attributes key and err", r)
		}
	})
}
