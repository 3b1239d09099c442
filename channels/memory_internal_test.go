package channels

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestMemoryForgets ensures that channels with no messages and no waiters,
// and groups with no members, cost no memory, however they got there.
func TestMemoryForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		m := NewMemory(nil)
		defer m.Close()

		// Received, and cancelled while waiting.
		m.Send(ctx, "received", []byte("x"))
		m.Receive(ctx, "received")
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		m.Receive(cctx, "cancelled")
		m.GroupAdd(ctx, "discarded", "a")
		m.GroupDiscard(ctx, "discarded", "a")
		m.assertSize(t, 0, 0)

		// Never received, and never renewed: swept by later calls.
		m.Send(ctx, "abandoned", []byte("x"))
		m.GroupAdd(ctx, "abandoned", "a")
		m.assertSize(t, 1, 1)
		time.Sleep(DefaultExpiry)
		m.Send(ctx, "other", []byte("x"))
		m.Receive(ctx, "other")
		m.assertSize(t, 0, 1)
		time.Sleep(DefaultGroupExpiry)
		m.Send(ctx, "other", []byte("x"))
		m.Receive(ctx, "other")
		m.assertSize(t, 0, 0)
	})
}

func (m *Memory) assertSize(t *testing.T, queues, groups int) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queues) != queues || len(m.groups) != groups {
		t.Errorf("layer holds %d channels and %d groups, want %d and %d",
			len(m.queues), len(m.groups), queues, groups)
	}
}

// TestMemoryAbandon ensures that a message handed to a Receive that gives
// up waiting at that moment goes back to the head of the channel, or to the
// next waiting receiver, rather than being lost.
func TestMemoryAbandon(t *testing.T) {
	ctx := t.Context()
	m := NewMemory(nil)
	defer m.Close()
	first, second := m.wait("ch"), m.wait("ch")
	m.Send(ctx, "ch", []byte("1")) // handed to first
	m.Send(ctx, "ch", []byte("2")) // handed to second
	m.Send(ctx, "ch", []byte("3")) // queued

	m.abandon("ch", first)
	m.abandon("ch", second)
	for _, want := range []string{"2", "1", "3"} {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := m.Receive(rctx, "ch")
		cancel()
		if string(msg) != want || err != nil {
			t.Fatalf("Receive = %q, %v; want %q, nil", msg, err, want)
		}
	}

	// A waiter that gives up before a message reaches it takes none.
	third, fourth := m.wait("ch"), m.wait("ch")
	m.abandon("ch", third)
	m.Send(ctx, "ch", []byte("4"))
	if msg := <-fourth; string(msg.data) != "4" {
		t.Errorf("remaining waiter got %q, want %q", msg.data, "4")
	}
	m.assertSize(t, 0, 0)
}

// wait registers a waiting receiver on channel as Receive does.
func (m *Memory) wait(channel string) chan message {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := make(chan message, 1)
	q := m.queue(channel)
	q.waiters = append(q.waiters, w)
	return w
}
