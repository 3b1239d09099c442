package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/redis/rueidis"
)

// TestSplitName ensures that only names shaped as NewChannel makes them
// count as process-specific.
func TestSplitName(t *testing.T) {
	process, local := newPart(), newPart()
	tests := []struct {
		channel string
		ok      bool
	}{
		{"ws." + process + "!" + local, true},
		{process + "!" + local, true},
		{"a!b" + process + "!" + local, true},
		{"otree.events", false},
		{"a!b", false},
		{"ws." + process + "!" + local[1:], false},
		{"ws." + process[1:] + "!" + local, false},
		{"ws." + process + "?" + local, false},
		{"ws." + strings.ToLower(process) + "!" + local, false},
		{"ws." + process + "!" + local + "x", false},
	}
	for _, tt := range tests {
		p, l, ok := splitName(tt.channel)
		if ok != tt.ok || ok && (p != process || l != local) {
			t.Errorf("splitName(%q) = %q, %q, %v; want ok %v", tt.channel, p, l, ok, tt.ok)
		}
	}
}

// TestManyReplyChannels ensures that reply channels cost no connections:
// 3,000 channels made by one layer, each with a Receive waiting, each get
// their own message sent through another layer, while the receiving layer
// holds a handful of connections to Redis.
func TestManyReplyChannels(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	const n, connBudget = 3000, 8
	prefix := testPrefix(t)
	clientName := "gotree-test-" + rand.Text()
	web := newTestLayerAt(t, withClientName(redisURL(), clientName), Options{Prefix: prefix})
	worker := newTestLayer(t, Options{Prefix: prefix})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	// Open the channels and wait on each.
	names := make([]string, n)
	for i := range names {
		name, err := web.NewChannel(ctx, "ws.")
		if err != nil {
			t.Fatalf("NewChannel = %v, want nil", err)
		}
		names[i] = name
	}
	got := make([]string, n)
	var receivers sync.WaitGroup
	for i, name := range names {
		receivers.Go(func() {
			msg, err := web.Receive(ctx, name)
			if err != nil {
				t.Errorf("Receive(%q) = %v, want nil", name, err)
			}
			got[i] = string(msg)
		})
	}
	waitUntil(t, "every Receive waits", func() bool { return web.inbox.waiting() == n })
	inspect := newClient(t)
	defer inspect.Close()
	waiting := countClients(t, inspect, clientName)

	// Send from the other layer, a few calls at a time.
	sem := make(chan struct{}, 32)
	var senders sync.WaitGroup
	for i, name := range names {
		sem <- struct{}{}
		senders.Go(func() {
			defer func() { <-sem }()
			if err := worker.Send(ctx, name, fmt.Appendf(nil, "message %d", i)); err != nil {
				t.Errorf("Send(%q) = %v, want nil", name, err)
			}
		})
	}
	senders.Wait()
	receivers.Wait()
	for i, msg := range got {
		if want := fmt.Sprintf("message %d", i); msg != want {
			t.Fatalf("Receive(%q) = %q, want %q", names[i], msg, want)
		}
	}

	after := countClients(t, inspect, clientName)
	t.Logf("connections of the receiving layer: %d while waiting, %d after", waiting, after)
	if waiting > connBudget || after > connBudget {
		t.Errorf("the receiving layer holds %d connections while waiting and %d after, want at most %d",
			waiting, after, connBudget)
	}
	waitUntil(t, "no set of unreceived messages is left", func() bool {
		return len(keys(t, inspect, prefix+"unreceived:*")) == 0
	})
}

// TestNotLocal ensures that Receive fails with ErrNotLocal on a channel
// made by a layer of another process, of another Redis database or prefix,
// or of a closed layer, while another layer of the same process, Redis and
// prefix receives from it.
func TestNotLocal(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	prefix := testPrefix(t)
	maker := newTestLayer(t, Options{Prefix: prefix})
	other := newTestLayer(t, Options{Prefix: prefix})
	elsewhere := newTestLayer(t, Options{Prefix: testPrefix(t)})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ch, err := maker.NewChannel(ctx, "ws.")
	if err != nil {
		t.Fatalf("NewChannel = %v, want nil", err)
	}

	// Another process's channel, seen as a name that no layer here made.
	foreign := "ws." + newPart() + "!" + newPart()
	if _, err := other.Receive(ctx, foreign); !errors.Is(err, ErrNotLocal) {
		t.Errorf("Receive(%q) of another process = %v, want ErrNotLocal", foreign, err)
	}
	if _, err := elsewhere.Receive(ctx, ch); !errors.Is(err, ErrNotLocal) {
		t.Errorf("Receive through a layer with another prefix = %v, want ErrNotLocal", err)
	}

	if err := other.Send(ctx, ch, []byte("hello")); err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	if msg, err := other.Receive(ctx, ch); string(msg) != "hello" || err != nil {
		t.Errorf("Receive through another layer = %q, %v; want %q, nil", msg, err, "hello")
	}

	maker.Close()
	if _, err := other.Receive(ctx, ch); !errors.Is(err, ErrNotLocal) {
		t.Errorf("Receive(%q) of a closed layer = %v, want ErrNotLocal", ch, err)
	}
	if left := keys(t, other.client, prefix+"inbox:*"); len(left) > 0 {
		t.Errorf("inbox left after Close: %q", left)
	}
}

// TestCapacityAcrossLayers ensures that the capacity of a channel made by
// NewChannel holds for senders in other processes, whether its messages
// wait in Redis or in the receiving layer, and that receiving makes room
// for them: at once for sends of the receiving layer, and within moments
// for the others.
func TestCapacityAcrossLayers(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	prefix := testPrefix(t)
	web := newTestLayer(t, Options{Prefix: prefix, Capacity: 2})
	worker := newTestLayer(t, Options{Prefix: prefix, Capacity: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ch, err := web.NewChannel(ctx, "ws.")
	if err != nil {
		t.Fatalf("NewChannel = %v, want nil", err)
	}
	for _, msg := range []string{"1", "2"} {
		if err := worker.Send(ctx, ch, []byte(msg)); err != nil {
			t.Fatalf("Send(%q) = %v, want nil", msg, err)
		}
	}
	if err := worker.Send(ctx, ch, []byte("3")); !errors.Is(err, channels.ErrFull) {
		t.Fatalf("Send to a full channel = %v, want ErrFull", err)
	}
	err = worker.GroupSend(ctx, "g", []byte("3")) // no members yet
	if err != nil {
		t.Fatalf("GroupSend to an empty group = %v, want nil", err)
	}
	if err := worker.GroupAdd(ctx, "g", ch); err != nil {
		t.Fatalf("GroupAdd = %v, want nil", err)
	}
	var fe *channels.FullError
	if err := worker.GroupSend(ctx, "g", []byte("3")); !errors.As(err, &fe) {
		t.Fatalf("GroupSend to a full member = %v, want a *FullError", err)
	}

	if msg, err := web.Receive(ctx, ch); string(msg) != "1" || err != nil {
		t.Fatalf("Receive = %q, %v; want %q, nil", msg, err, "1")
	}
	if err := web.Send(ctx, ch, []byte("3")); err != nil {
		t.Fatalf("Send through the receiving layer after a Receive made room = %v, want nil", err)
	}
	if msg, err := web.Receive(ctx, ch); string(msg) != "2" || err != nil {
		t.Fatalf("Receive = %q, %v; want %q, nil", msg, err, "2")
	}
	start := time.Now()
	for {
		err := worker.Send(ctx, ch, []byte("4"))
		if err == nil {
			break
		}
		if !errors.Is(err, channels.ErrFull) || time.Since(start) > time.Second {
			t.Fatalf("Send through another layer after a Receive made room = %v, want nil", err)
		}
		time.Sleep(time.Millisecond) // wait for the receipt to reach Redis
	}
	t.Logf("room made by a Receive reached another layer after %v", time.Since(start))
	for _, want := range []string{"3", "4"} {
		if msg, err := web.Receive(ctx, ch); string(msg) != want || err != nil {
			t.Errorf("Receive = %q, %v; want %q, nil", msg, err, want)
		}
	}
}

// TestGroupAcrossLayers ensures that one GroupSend reaches members of
// every kind: a plain channel and channels made by two other layers.
func TestGroupAcrossLayers(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	prefix := testPrefix(t)
	web1 := newTestLayer(t, Options{Prefix: prefix})
	web2 := newTestLayer(t, Options{Prefix: prefix})
	worker := newTestLayer(t, Options{Prefix: prefix})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	members := map[string]*Layer{"plain": worker}
	for _, l := range []*Layer{web1, web2, web2} {
		ch, err := l.NewChannel(ctx, "ws.")
		if err != nil {
			t.Fatalf("NewChannel = %v, want nil", err)
		}
		members[ch] = l
	}
	for ch := range members {
		if err := worker.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatalf("GroupAdd(%q) = %v, want nil", ch, err)
		}
	}

	if err := worker.GroupSend(ctx, "g", []byte("hello")); err != nil {
		t.Fatalf("GroupSend = %v, want nil", err)
	}
	for ch, l := range members {
		if msg, err := l.Receive(ctx, ch); string(msg) != "hello" || err != nil {
			t.Errorf("Receive(%q) = %q, %v; want %q, nil", ch, msg, err, "hello")
		}
	}
}

// TestSweep ensures that the receiving layer forgets the messages of
// channels nobody receives from once they expire, and that sends to the
// channels of a closed layer leave only unexpired messages in Redis.
func TestSweep(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	const expiry = 500 * time.Millisecond
	prefix := testPrefix(t)
	web := newTestLayer(t, Options{Prefix: prefix, Expiry: expiry})
	worker := newTestLayer(t, Options{Prefix: prefix, Expiry: expiry})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	var names []string
	for range 100 {
		ch, err := web.NewChannel(ctx, "ws.")
		if err != nil {
			t.Fatalf("NewChannel = %v, want nil", err)
		}
		if err := worker.Send(ctx, ch, []byte("unwanted")); err != nil {
			t.Fatalf("Send = %v, want nil", err)
		}
		names = append(names, ch)
	}
	waitUntil(t, "the inbox holds messages", func() bool {
		_, held := web.inbox.size()
		return held > 0
	})
	waitUntil(t, "the expired messages and their channels are dropped", func() bool {
		chans, held := web.inbox.size()
		return chans == 0 && held == 0
	})

	// The channels of a closed layer.
	inbox := web.inbox.key
	web.Close()
	for _, msg := range []string{"1", "2"} {
		for _, ch := range names {
			if err := worker.Send(ctx, ch, []byte(msg)); err != nil {
				t.Fatalf("Send(%q) to a closed layer's channel = %v, want nil", msg, err)
			}
		}
		time.Sleep(expiry + 50*time.Millisecond) // let the messages expire
	}
	if err := worker.Send(ctx, names[0], []byte("3")); err != nil {
		t.Fatalf("Send to a closed layer's channel = %v, want nil", err)
	}
	n, err := worker.client.Do(ctx, worker.client.B().Llen().Key(inbox).Build()).AsInt64()
	if n != 1 || err != nil {
		t.Errorf("LLEN of a closed layer's inbox = %d, %v; want 1, nil", n, err)
	}
}

// TestInboxConn ensures that Receives waiting on plain channels, however
// many, leave the inbox its connection.
func TestInboxConn(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	prefix := testPrefix(t)
	l := newTestLayer(t, Options{Prefix: prefix, ReceiveConns: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ch, err := l.NewChannel(ctx, "ws.")
	if err != nil {
		t.Fatalf("NewChannel = %v, want nil", err)
	}

	plain, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for range 4 {
		wg.Go(func() {
			if _, err := l.Receive(plain, "plain"); !errors.Is(err, context.Canceled) {
				t.Errorf("Receive(%q) = %v, want context.Canceled", "plain", err)
			}
		})
	}
	waitUntil(t, "plain receives hold every connection kept for them", func() bool {
		return len(l.conns) == cap(l.conns)
	})

	// The inbox's BLPOP ends with each message, so it needs a connection
	// again for the next.
	for _, want := range []string{"1", "2", "3"} {
		if err := l.Send(ctx, ch, []byte(want)); err != nil {
			t.Fatalf("Send = %v, want nil", err)
		}
		if msg, err := l.Receive(ctx, ch); string(msg) != want || err != nil {
			t.Fatalf("Receive(%q) with plain receives waiting = %q, %v; want %q, nil",
				ch, msg, err, want)
		}
	}
}

// waiting returns the number of receivers waiting on the inbox's channels.
func (in *inbox) waiting() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, q := range in.chans {
		n += len(q.waiters)
	}
	return n
}

// size returns the number of channels the inbox keeps a queue for and the
// number of messages in those queues.
func (in *inbox) size() (chans, msgs int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, q := range in.chans {
		msgs += len(q.msgs)
	}
	return len(in.chans), msgs
}

// waitUntil polls cond until it holds, failing t after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not so after 10 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // poll work done in the background
	}
}

// withClientName returns url with a client name that every connection of a
// layer made with it announces to Redis.
func withClientName(url, name string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "client_name=" + name
}

// countClients returns the number of connections to Redis named name.
func countClients(t *testing.T, client rueidis.Client, name string) int {
	t.Helper()
	list, err := client.Do(t.Context(), client.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	n := 0
	for line := range strings.Lines(list) {
		if strings.Contains(line, " name="+name+" ") {
			n++
		}
	}
	return n
}
