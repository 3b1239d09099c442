package channels_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/gotree/gotree/channels/channelstest"
)

func TestMemory(t *testing.T) {
	channelstest.Run(t, 500*time.Millisecond, newMemoryBackend)
}

// newMemoryBackend returns one Memory for every layer of a test, since a
// Memory shares its channels only with itself.
func newMemoryBackend(t *testing.T, c channelstest.Config) func() channels.Layer {
	m := channels.NewMemory(&channels.MemoryOptions{
		Expiry:      c.Expiry,
		Capacity:    c.Capacity,
		GroupExpiry: c.GroupExpiry,
	})
	t.Cleanup(func() { m.Close() })
	return func() channels.Layer { return m }
}

func BenchmarkMemory(b *testing.B) {
	m := channels.NewMemory(nil)
	defer m.Close()
	channelstest.Benchmark(b, m)
}

// TestMemoryDefaults ensures that a layer made with nil options keeps
// messages for 60 s, memberships for 24 h and 100 messages per channel.
func TestMemoryDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		m := channels.NewMemory(nil)
		defer m.Close()

		// Messages: the first expires, the second does not.
		mustSend(t, m, "ch", "old")
		time.Sleep(59 * time.Second)
		mustSend(t, m, "ch", "new")
		time.Sleep(2 * time.Second)
		if msg, err := m.Receive(ctx, "ch"); string(msg) != "new" || err != nil {
			t.Errorf("Receive after 61 s = %q, %v; want %q, nil", msg, err, "new")
		}

		// Memberships: "old" has expired by the GroupSend, "new" has not.
		mustGroupAdd(t, m, "g", "old")
		time.Sleep(time.Hour)
		mustGroupAdd(t, m, "g", "new")
		time.Sleep(23 * time.Hour)
		if err := m.GroupSend(ctx, "g", []byte("hi")); err != nil {
			t.Fatalf("GroupSend = %v, want nil", err)
		}
		if msg, err := m.Receive(ctx, "new"); string(msg) != "hi" || err != nil {
			t.Errorf("Receive(%q) = %q, %v; want %q, nil", "new", msg, err, "hi")
		}
		wantNothing(t, m, "old")

		// Capacity.
		for i := range channels.DefaultCapacity {
			mustSend(t, m, "full", fmt.Sprint(i))
		}
		if err := m.Send(ctx, "full", nil); !errors.Is(err, channels.ErrFull) {
			t.Errorf("Send number %d = %v, want ErrFull", channels.DefaultCapacity+1, err)
		}
	})
}

// TestMemoryWakes ensures that a blocked Receive returns when its context
// ends or the layer closes.
func TestMemoryWakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := channels.NewMemory(nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancelled := receiveErr(m, ctx, "a")
		closed := receiveErr(m, t.Context(), "b")
		synctest.Wait()

		cancel()
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Errorf("Receive after cancel = %v, want context.Canceled", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
		if err := <-closed; !errors.Is(err, channels.ErrClosed) {
			t.Errorf("Receive after Close = %v, want ErrClosed", err)
		}
	})
}

func receiveErr(m *channels.Memory, ctx context.Context, channel string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := m.Receive(ctx, channel)
		errc <- err
	}()
	return errc
}

// wantNothing fails the test unless channel stays empty until a deadline,
// which synctest reaches without waiting.
func wantNothing(t *testing.T, m *channels.Memory, channel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if msg, err := m.Receive(ctx, channel); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive(%q) = %q, %v; want context.DeadlineExceeded", channel, msg, err)
	}
}

func mustSend(t *testing.T, m *channels.Memory, channel, msg string) {
	t.Helper()
	if err := m.Send(t.Context(), channel, []byte(msg)); err != nil {
		t.Fatalf("Send(%q, %q) = %v, want nil", channel, msg, err)
	}
}

func mustGroupAdd(t *testing.T, m *channels.Memory, group, channel string) {
	t.Helper()
	if err := m.GroupAdd(t.Context(), group, channel); err != nil {
		t.Fatalf("GroupAdd(%q, %q) = %v, want nil", group, channel, err)
	}
}
