package channelstest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gotree/gotree/channels"
)

// Benchmark measures l, which must have a capacity of at least one message,
// in sub-benchmarks:
//
//   - RoundTrip: Send then Receive on one channel.
//   - GroupSend/members=N: GroupSend to a group of N channels, each with a
//     receiver waiting, until every member has received the message.
//
// Besides ns/op each reports msgs/s, the messages received per second.
func Benchmark(b *testing.B, l channels.Layer) {
	b.Run("RoundTrip", func(b *testing.B) { benchRoundTrip(b, l) })
	for _, n := range []int{3, 1000} {
		b.Run(fmt.Sprintf("GroupSend/members=%d", n), func(b *testing.B) {
			benchGroupSend(b, l, n)
		})
	}
}

func benchRoundTrip(b *testing.B, l channels.Layer) {
	ctx := b.Context()
	ch := newChannel(b, l)
	msg := []byte("ping")
	for b.Loop() {
		if err := l.Send(ctx, ch, msg); err != nil {
			b.Fatalf("Send = %v", err)
		}
		if _, err := l.Receive(ctx, ch); err != nil {
			b.Fatalf("Receive = %v", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func benchGroupSend(b *testing.B, l channels.Layer, members int) {
	ctx, cancel := context.WithCancel(b.Context())
	group := "bench." + rand.Text()
	got := make(chan struct{}, members)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range members {
		ch := newChannel(b, l)
		groupAdd(b, l, group, ch)
		wg.Go(func() {
			if err := receiveAll(ctx, l, ch, got); err != nil {
				b.Errorf("Receive(%q) = %v", ch, err)
				cancel()
			}
		})
	}

	msg := []byte("fan-out")
	for b.Loop() {
		if err := l.GroupSend(ctx, group, msg); err != nil {
			b.Fatalf("GroupSend = %v", err)
		}
		for range members {
			select {
			case <-got:
			case <-ctx.Done():
				b.Fatal("a receiver failed")
			}
		}
	}
	b.ReportMetric(float64(b.N*members)/b.Elapsed().Seconds(), "msgs/s")
}

// receiveAll receives from ch until ctx is done, signalling each message on
// got.
func receiveAll(ctx context.Context, l channels.Layer, ch string, got chan<- struct{}) error {
	for {
		_, err := l.Receive(ctx, ch)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		got <- struct{}{}
	}
}
