package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/channels"
)

// BenchmarkWebWorker measures the round trip behind every WebSocket event in
// gotree: a web layer sends an event naming the socket's reply channel to a
// plain channel, a worker layer, another process sharing the Redis, receives
// it and answers on the reply channel, and the web layer receives the
// answer. Four worker goroutines serve the events, as gotree runs them; the
// sockets send concurrently, each waiting for its answer before sending
// again. Besides ns/op it reports the median and 99th percentile of the
// round trip.
func BenchmarkWebWorker(b *testing.B) {
	requireRedis(b)
	for _, sockets := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("sockets=%d", sockets), func(b *testing.B) {
			prefix := testPrefix(b)
			web := newTestLayer(b, Options{Prefix: prefix})
			worker := newTestLayer(b, Options{Prefix: prefix})
			benchWebWorker(b, web, worker, sockets)
		})
	}
}

func benchWebWorker(b *testing.B, web, worker channels.Layer, sockets int) {
	events := "bench.events." + rand.Text()
	ctx, cancel := context.WithCancel(b.Context())
	var workers sync.WaitGroup
	defer workers.Wait()
	defer cancel()
	for range 4 {
		workers.Go(func() { serveEvents(ctx, b, worker, events) })
	}

	// Each socket runs its share of the round trips and records them.
	var mu sync.Mutex
	var all []time.Duration
	var sent sync.WaitGroup
	next := make(chan struct{}, b.N)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	for range sockets {
		sent.Go(func() {
			rtts, err := runSocket(ctx, web, events, next)
			if err != nil {
				b.Error(err)
				cancel()
			}
			mu.Lock()
			all = append(all, rtts...)
			mu.Unlock()
		})
	}
	sent.Wait()
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
}

// serveEvents answers every event on the events channel with a message to
// the reply channel the event names, until ctx ends.
func serveEvents(ctx context.Context, b *testing.B, l channels.Layer, events string) {
	for {
		ev, err := l.Receive(ctx, events)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, channels.ErrClosed) {
				b.Errorf("worker: Receive(%q) = %v", events, err)
			}
			return
		}
		err = l.Send(ctx, string(ev), []byte(`{"status": "ready"}`))
		if err != nil {
			// The answer may have reached its socket, ending the benchmark,
			// before Redis acknowledged it.
			if ctx.Err() == nil {
				b.Errorf("worker: Send(%q) = %v", ev, err)
			}
			return
		}
	}
}

// runSocket opens a reply channel and makes one round trip for each value
// it takes from next, returning how long each took.
func runSocket(ctx context.Context, l channels.Layer, events string, next <-chan struct{}) ([]time.Duration, error) {
	reply, err := l.NewChannel(ctx, "ws.")
	if err != nil {
		return nil, fmt.Errorf("NewChannel = %w", err)
	}
	var rtts []time.Duration
	for range next {
		start := time.Now()
		if err := l.Send(ctx, events, []byte(reply)); err != nil {
			return rtts, fmt.Errorf("web: Send(%q) = %w", events, err)
		}
		if _, err := l.Receive(ctx, reply); err != nil {
			return rtts, fmt.Errorf("web: Receive(%q) = %w", reply, err)
		}
		rtts = append(rtts, time.Since(start))
	}
	return rtts, nil
}
