package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/gotree/gotree/channels/channelstest"
	"github.com/redis/rueidis"
)

// redisURL is where the tests find Redis: $REDIS_URL, or a local default.
func redisURL() string {
	if url := os.Getenv("REDIS_URL"); url != "" {
		return url
	}
	return "redis://127.0.0.1:6379/0"
}

// reachable reports, once per test binary, whether Redis answers.
var reachable = sync.OnceValue(func() error {
	l, err := New(context.Background(), redisURL(), nil)
	if err == nil {
		l.Close()
	}
	return err
})

// requireRedis skips t if Redis does not answer, or fails it under CI=true,
// where a missing service must not pass unnoticed.
func requireRedis(t testing.TB) {
	t.Helper()
	err := reachable()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%v\nstart Redis with: redis-server --daemonize yes --bind 127.0.0.1 "+
		"--port 6379 --save \"\"\nor point REDIS_URL at one", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// testPrefix returns a key prefix of t's own. When t ends, after its layers
// closed, it fails t if wake keys were left behind and deletes every key
// under the prefix.
func testPrefix(t testing.TB) string {
	t.Helper()
	prefix := "gotree-test:" + rand.Text() + ":"
	client := newClient(t)
	t.Cleanup(func() {
		ctx := context.Background()
		if wakes := keys(t, client, prefix+"wake:*"); len(wakes) > 0 {
			t.Errorf("wake keys left behind: %q", wakes)
		}
		if all := keys(t, client, prefix+"*"); len(all) > 0 {
			client.Do(ctx, client.B().Del().Key(all...).Build())
		}
		client.Close()
	})
	return prefix
}

// newClient returns a plain client for inspecting Redis.
func newClient(t testing.TB) rueidis.Client {
	t.Helper()
	co, err := rueidis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	co.DisableCache = true
	client, err := rueidis.NewClient(co)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func keys(t testing.TB, client rueidis.Client, pattern string) []string {
	var all []string
	cursor := uint64(0)
	for {
		cmd := client.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()
		entry, err := client.Do(context.Background(), cmd).AsScanEntry()
		if err != nil {
			t.Errorf("SCAN %s: %v", pattern, err)
			return all
		}
		all = append(all, entry.Elements...)
		if cursor = entry.Cursor; cursor == 0 {
			return all
		}
	}
}

// newTestLayer returns a layer on the test Redis, closed when t ends.
func newTestLayer(t testing.TB, o Options) *Layer {
	t.Helper()
	return newTestLayerAt(t, redisURL(), o)
}

func newTestLayerAt(t testing.TB, url string, o Options) *Layer {
	t.Helper()
	l, err := New(t.Context(), url, &o)
	if err != nil {
		t.Fatalf("New(%q) = %v, want nil", url, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRedis runs the conformance suite on channels made by NewChannel,
// which come through the layers' inboxes.
func TestRedis(t *testing.T) {
	t.Parallel()
	channelstest.Run(t, time.Second, func(t *testing.T, c channelstest.Config) func() channels.Layer {
		requireRedis(t)
		o := suiteOptions(t, c)
		return func() channels.Layer { return newTestLayer(t, o) }
	})
}

// TestRedisPlain runs the conformance suite on plain channels, each a list
// of its own in Redis.
func TestRedisPlain(t *testing.T) {
	t.Parallel()
	channelstest.Run(t, time.Second, func(t *testing.T, c channelstest.Config) func() channels.Layer {
		requireRedis(t)
		o := suiteOptions(t, c)
		return func() channels.Layer { return plainNames{newTestLayer(t, o)} }
	})
}

func suiteOptions(t *testing.T, c channelstest.Config) Options {
	return Options{
		Prefix:      testPrefix(t),
		Expiry:      c.Expiry,
		Capacity:    c.Capacity,
		GroupExpiry: c.GroupExpiry,
	}
}

// A plainNames is a layer whose NewChannel makes plain channels, so that
// the suite, which receives from channels it makes, tests those.
type plainNames struct{ *Layer }

func (p plainNames) NewChannel(ctx context.Context, prefix string) (string, error) {
	if p.closed() {
		return "", channels.ErrClosed
	}
	return prefix + "plain." + rand.Text(), ctx.Err()
}

func BenchmarkRedis(b *testing.B) {
	requireRedis(b)
	l := newTestLayer(b, Options{Prefix: testPrefix(b)})
	channelstest.Benchmark(b, l)
}

func BenchmarkRedisPlain(b *testing.B) {
	requireRedis(b)
	l := newTestLayer(b, Options{Prefix: testPrefix(b)})
	channelstest.Benchmark(b, plainNames{l})
}

// TestNewUnreachable ensures that New gives up within 5 s with an error
// that names the address, whether nothing listens there or a server accepts
// connections but never answers.
func TestNewUnreachable(t *testing.T) {
	t.Parallel()
	silent := listenSilently(t)
	for _, addr := range []string{"127.0.0.1:1", silent} {
		start := time.Now()
		l, err := New(t.Context(), "redis://"+addr+"/0", nil)
		if err == nil {
			l.Close()
			t.Fatalf("New(%q) = nil error, want one", addr)
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("New(%q) = %v, want an error naming the address", addr, err)
		}
		if d := time.Since(start); d > startTimeout {
			t.Errorf("New(%q) took %v, want at most %v", addr, d, startTimeout)
		}
	}
}

// TestPushBack ensures that a message popped by the BLPOP of a Receive that
// has already returned goes back to the head of its channel, and that the
// wake key is removed.
func TestPushBack(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	l := newTestLayer(t, Options{Prefix: testPrefix(t)})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, msg := range []string{"1", "2"} {
		if err := l.Send(ctx, "ch", []byte(msg)); err != nil {
			t.Fatalf("Send(%q) = %v, want nil", msg, err)
		}
	}

	// A waiter whose caller has returned and whose wake token was pushed.
	w := &waiter{
		key:       l.channelKey("ch"),
		wake:      l.wakeKey(),
		res:       make(chan popResult),
		abandoned: make(chan struct{}),
		woken:     make(chan struct{}),
		stop:      func() bool { return false },
	}
	l.pushWake(w.wake)
	close(w.abandoned)
	close(w.woken)
	l.startWaiter()
	l.blockingPop(w) // pops "1", the head, before the wake token

	for _, want := range []string{"1", "2"} {
		if msg, err := l.Receive(ctx, "ch"); string(msg) != want || err != nil {
			t.Errorf("Receive = %q, %v; want %q, nil", msg, err, want)
		}
	}
}

// TestCloseAborts ensures that Close returns even when a blocked pop does
// not wake, by closing the pop's connection once it has waited 5 s.
func TestCloseAborts(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	l := newTestLayer(t, Options{Prefix: testPrefix(t), Logger: logger})

	// A waiter whose caller has returned and whose wake token is lost.
	w := &waiter{
		key:       l.channelKey("ch"),
		wake:      l.wakeKey(),
		res:       make(chan popResult),
		abandoned: make(chan struct{}),
		woken:     make(chan struct{}),
		stop:      func() bool { return false },
	}
	close(w.abandoned)
	close(w.woken)
	l.startWaiter()
	go l.blockingPop(w)

	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if d := time.Since(start); d > closeTimeout+2*time.Second {
		t.Errorf("Close with a pop that does not wake took %v, want about %v", d, closeTimeout)
	}
	if want := "closing with receives still waiting"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
