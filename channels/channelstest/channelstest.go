// Package channelstest checks that a channel layer follows the rules written
// in the documentation of package channels.
//
// An implementation's tests call [Run] with a [NewBackend] that makes layers
// of that implementation; [Benchmark] measures one layer the same way for
// every implementation, so that their figures compare.
package channelstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/channels"
)

// A Config is the configuration a test asks of the layers it uses.
type Config struct {
	Expiry      time.Duration // message expiry
	GroupExpiry time.Duration // group membership expiry
	Capacity    int           // messages per channel
}

// A NewBackend starts a backend for one test and returns a function that
// makes layers on it, each configured as c.
//
// Layers made by one returned function share the backend: a message sent
// through one can be received through another, as with processes sharing
// one Redis. An in-process implementation may return the same layer each
// time. The NewBackend arranges, with t.Cleanup, for its layers to be closed
// and its state removed when the test ends; the suite may close a layer
// first, so closing must tolerate ErrClosed.
type NewBackend func(t *testing.T, c Config) func() channels.Layer

// Run checks layers made by newBackend against every rule of package
// channels, each in a parallel subtest.
//
// short is the expiry the suite configures where it tests expiry: long
// enough for a few calls to complete, because the suite takes a delay of
// 0.4 short as a safe margin, and short enough to wait out a few times.
// Other tests use a minute or more, so a slow machine cannot expire their
// messages.
func Run(t *testing.T, short time.Duration, newBackend NewBackend) {
	s := &suite{short: short, newBackend: newBackend}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Queue", s.testQueue},
		{"Messages", s.testMessages},
		{"Order", s.testOrder},
		{"ExactlyOnce", s.testExactlyOnce},
		{"NewChannel", s.testNewChannel},
		{"Group", s.testGroup},
		{"GroupDiscard", s.testGroupDiscard},
		{"GroupExpiry", s.testGroupExpiry},
		{"Expiry", s.testExpiry},
		{"Capacity", s.testCapacity},
		{"GroupSendFull", s.testGroupSendFull},
		{"Cancel", s.testCancel},
		{"CancelRace", s.testCancelRace},
		{"Close", s.testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t)
		})
	}
}

type suite struct {
	short      time.Duration
	newBackend NewBackend
}

// config is the configuration of tests that do not test expiry.
var config = Config{Expiry: time.Minute, GroupExpiry: time.Hour, Capacity: 100}

// layer returns a layer configured as c on a fresh backend.
func (s *suite) layer(t *testing.T, c Config) channels.Layer {
	return s.newBackend(t, c)()
}

// testQueue ensures that messages come out in the order they went in, that
// Receive waits for a message, and that channels do not mix.
func (s *suite) testQueue(t *testing.T) {
	l := s.layer(t, config)
	a, b := newChannel(t, l), newChannel(t, l)
	for _, msg := range []string{"one", "two", "three"} {
		send(t, l, a, msg)
	}
	send(t, l, b, "other")
	for _, want := range []string{"one", "two", "three"} {
		wantNext(t, l, a, want)
	}
	wantNext(t, l, b, "other")

	got := make(chan string)
	go func() {
		msg, err := l.Receive(timeout(t), a)
		if err != nil {
			t.Errorf("Receive(%q) = %v, want nil", a, err)
		}
		got <- string(msg)
	}()
	send(t, l, a, "later")
	if msg := <-got; msg != "later" {
		t.Errorf("waiting Receive(%q) = %q, want %q", a, msg, "later")
	}
}

// testMessages ensures that messages are opaque bytes, any length and any
// content, and that Send does not keep the caller's slice.
func (s *suite) testMessages(t *testing.T) {
	l := s.layer(t, config)
	ch := newChannel(t, l)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<12)
	msgs := [][]byte{{}, {0, 1, 0xff, '\n', '\r', ':'}, big, []byte("ünïcødé")}
	for _, msg := range msgs {
		if err := l.Send(timeout(t), ch, msg); err != nil {
			t.Fatalf("Send(%q, %d bytes) = %v, want nil", ch, len(msg), err)
		}
	}
	for _, want := range msgs {
		if got := receive(t, l, ch); !bytes.Equal(got, want) {
			t.Errorf("Receive(%q) = %.40q (%d bytes), want %.40q (%d bytes)",
				ch, got, len(got), want, len(want))
		}
	}

	buf := []byte("original")
	if err := l.Send(timeout(t), ch, buf); err != nil {
		t.Fatalf("Send(%q) = %v, want nil", ch, err)
	}
	copy(buf, "modified")
	wantNext(t, l, ch, "original")
}

// testOrder ensures that a receiver running alongside the sender sees its
// messages in the order sent.
func (s *suite) testOrder(t *testing.T) {
	const n = 200
	l := s.layer(t, Config{Expiry: time.Minute, GroupExpiry: time.Hour, Capacity: n})
	ch := newChannel(t, l)
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for i := range n {
			if err := l.Send(timeout(t), ch, fmt.Appendf(nil, "%d", i)); err != nil {
				t.Errorf("Send(%q, %d) = %v, want nil", ch, i, err)
				return
			}
		}
	}()
	for i := range n {
		wantNext(t, l, ch, fmt.Sprint(i))
	}
}

// testExactlyOnce ensures that receivers waiting on one channel share its
// messages, each message reaching exactly one of them.
func (s *suite) testExactlyOnce(t *testing.T) {
	const receivers, n = 8, 400
	l := s.layer(t, Config{Expiry: time.Minute, GroupExpiry: time.Hour, Capacity: n})
	ch := newChannel(t, l)

	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan string, n)
	counts := make([]int, receivers)
	var wg sync.WaitGroup
	for r := range receivers {
		wg.Go(func() {
			for {
				msg, err := l.Receive(ctx, ch)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("Receive(%q) = %v, want nil or context.Canceled", ch, err)
					}
					return
				}
				counts[r]++
				got <- string(msg)
			}
		})
	}

	for i := range n {
		send(t, l, ch, fmt.Sprint(i))
	}
	seen := make(map[string]bool)
	for range n {
		select {
		case msg := <-got:
			if seen[msg] {
				t.Errorf("message %s received twice", msg)
			}
			seen[msg] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d messages in 10 s", len(seen), n)
		}
	}
	cancel()
	wg.Wait()
	if len(got) > 0 {
		t.Errorf("received %d messages more than the %d sent", len(got), n)
	}
	t.Logf("messages per receiver: %v", counts)
}

// testNewChannel ensures that channel names carry the prefix and are unique
// across layers sharing a backend, and that such layers share channels.
func (s *suite) testNewChannel(t *testing.T) {
	const perLayer = 500
	newLayer := s.newBackend(t, config)
	layers := []channels.Layer{newLayer(), newLayer()}
	seen := make(map[string]bool)
	for _, l := range layers {
		for range perLayer {
			name, err := l.NewChannel(timeout(t), "test.")
			if err != nil {
				t.Fatalf("NewChannel(%q) = %v, want nil", "test.", err)
			}
			if !strings.HasPrefix(name, "test.") || name == "test." {
				t.Errorf("NewChannel(%q) = %q, want the prefix and more", "test.", name)
			}
			if seen[name] {
				t.Errorf("NewChannel returned %q twice", name)
			}
			seen[name] = true
		}
	}

	ch := newChannel(t, layers[0])
	send(t, layers[0], ch, "across")
	wantNext(t, layers[1], ch, "across")
}

// testGroup ensures that GroupSend reaches every member once, renewing a
// membership does not duplicate it, and non-members get nothing.
func (s *suite) testGroup(t *testing.T) {
	l := s.layer(t, config)
	members := []string{newChannel(t, l), newChannel(t, l), newChannel(t, l)}
	outsider := newChannel(t, l)
	for _, ch := range members {
		groupAdd(t, l, "g", ch)
	}
	groupAdd(t, l, "g", members[0])
	groupAdd(t, l, "h", outsider)

	if err := l.GroupSend(timeout(t), "g", []byte("hello")); err != nil {
		t.Fatalf("GroupSend(%q) = %v, want nil", "g", err)
	}
	for _, ch := range members {
		wantNext(t, l, ch, "hello")
		wantEmpty(t, l, ch)
	}
	wantEmpty(t, l, outsider)

	if err := l.GroupSend(timeout(t), "nobody", []byte("hello")); err != nil {
		t.Errorf("GroupSend to an empty group = %v, want nil", err)
	}
}

// testGroupDiscard ensures that a discarded channel gets no more group
// messages, and that discarding a non-member is not an error.
func (s *suite) testGroupDiscard(t *testing.T) {
	l := s.layer(t, config)
	stay, leave := newChannel(t, l), newChannel(t, l)
	groupAdd(t, l, "g", stay)
	groupAdd(t, l, "g", leave)
	for range 2 {
		if err := l.GroupDiscard(timeout(t), "g", leave); err != nil {
			t.Fatalf("GroupDiscard(%q, %q) = %v, want nil", "g", leave, err)
		}
	}
	if err := l.GroupDiscard(timeout(t), "none", leave); err != nil {
		t.Errorf("GroupDiscard from an unknown group = %v, want nil", err)
	}

	if err := l.GroupSend(timeout(t), "g", []byte("hello")); err != nil {
		t.Fatalf("GroupSend(%q) = %v, want nil", "g", err)
	}
	wantNext(t, l, stay, "hello")
	wantEmpty(t, l, leave)
}

// testGroupExpiry ensures that a membership expires unless renewed, and that
// GroupAdd renews it.
func (s *suite) testGroupExpiry(t *testing.T) {
	l := s.layer(t, Config{Expiry: time.Minute, GroupExpiry: s.short, Capacity: 100})
	stale, renewed := newChannel(t, l), newChannel(t, l)
	groupAdd(t, l, "g", stale)
	groupAdd(t, l, "g", renewed)

	time.Sleep(s.short * 6 / 10) // let time pass: expiry is what is tested
	groupAdd(t, l, "g", renewed)
	time.Sleep(s.short * 6 / 10)

	if err := l.GroupSend(timeout(t), "g", []byte("hello")); err != nil {
		t.Fatalf("GroupSend(%q) = %v, want nil", "g", err)
	}
	wantNext(t, l, renewed, "hello")
	wantEmpty(t, l, stale)
}

// testExpiry ensures that a message not received within the expiry is
// dropped, and that dropped messages leave room for new ones.
func (s *suite) testExpiry(t *testing.T) {
	l := s.layer(t, Config{Expiry: s.short, GroupExpiry: time.Hour, Capacity: 2})
	ch := newChannel(t, l)
	send(t, l, ch, "old 1")
	send(t, l, ch, "old 2")

	time.Sleep(s.short * 12 / 10) // let time pass: expiry is what is tested
	send(t, l, ch, "new")
	wantNext(t, l, ch, "new")
	wantEmpty(t, l, ch)
}

// testCapacity ensures that Send to a full channel fails with ErrFull and
// drops nothing, and that receiving makes room.
func (s *suite) testCapacity(t *testing.T) {
	l := s.layer(t, Config{Expiry: time.Minute, GroupExpiry: time.Hour, Capacity: 3})
	ch := newChannel(t, l)
	for _, msg := range []string{"1", "2", "3"} {
		send(t, l, ch, msg)
	}
	err := l.Send(timeout(t), ch, []byte("4"))
	if !errors.Is(err, channels.ErrFull) {
		t.Fatalf("Send to a full channel = %v, want ErrFull", err)
	}
	wantNext(t, l, ch, "1")
	send(t, l, ch, "5")
	for _, want := range []string{"2", "3", "5"} {
		wantNext(t, l, ch, want)
	}
	wantEmpty(t, l, ch)
}

// testGroupSendFull ensures that GroupSend reports full members in a
// *FullError that matches ErrFull, while the other members still receive.
func (s *suite) testGroupSendFull(t *testing.T) {
	l := s.layer(t, Config{Expiry: time.Minute, GroupExpiry: time.Hour, Capacity: 2})
	full, free := newChannel(t, l), newChannel(t, l)
	groupAdd(t, l, "g", full)
	groupAdd(t, l, "g", free)
	send(t, l, full, "1")
	send(t, l, full, "2")

	err := l.GroupSend(timeout(t), "g", []byte("hello"))
	var fe *channels.FullError
	if !errors.As(err, &fe) {
		t.Fatalf("GroupSend with a full member = %v, want a *FullError", err)
	}
	if !errors.Is(err, channels.ErrFull) {
		t.Errorf("errors.Is(%v, ErrFull) = false, want true", err)
	}
	if fe.Group != "g" || !slices.Equal(fe.Channels, []string{full}) {
		t.Errorf("FullError = {%q, %q}, want {%q, [%q]}", fe.Group, fe.Channels, "g", full)
	}
	wantNext(t, l, free, "hello")
	wantNext(t, l, full, "1")
	wantNext(t, l, full, "2")
	wantEmpty(t, l, full)
}

// testCancel ensures that a blocked Receive returns its context's error, and
// that a cancelled Receive does not take a later message.
func (s *suite) testCancel(t *testing.T) {
	l := s.layer(t, config)
	ch := newChannel(t, l)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Receive(ctx, ch); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive past its deadline = %v, want context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := l.Receive(ctx, ch)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Receive = %v, want context.Canceled", err)
	}

	send(t, l, ch, "after")
	wantNext(t, l, ch, "after")
}

// testCancelRace ensures that a message sent while a Receive is being
// cancelled is received exactly once: by that Receive or by the next.
func (s *suite) testCancelRace(t *testing.T) {
	l := s.layer(t, config)
	ch := newChannel(t, l)
	type result struct {
		msg []byte
		err error
	}
	for i := range 50 {
		want := fmt.Sprint(i)
		ctx, cancel := context.WithCancel(t.Context())
		res := make(chan result)
		go func() {
			msg, err := l.Receive(ctx, ch)
			res <- result{msg, err}
		}()
		if i%2 == 0 {
			cancel()
		}
		send(t, l, ch, want)
		cancel()

		r := <-res
		switch {
		case r.err == nil && string(r.msg) != want:
			t.Fatalf("Receive = %q, want %q", r.msg, want)
		case r.err != nil && !errors.Is(r.err, context.Canceled):
			t.Fatalf("Receive = %v, want nil or context.Canceled", r.err)
		case r.err != nil:
			wantNext(t, l, ch, want)
		}
	}
	wantEmpty(t, l, ch)
}

// testClose ensures that Close wakes a blocked Receive with ErrClosed and
// that every later call returns ErrClosed.
func (s *suite) testClose(t *testing.T) {
	l := s.layer(t, config)
	ch := newChannel(t, l)
	errc := make(chan error)
	go func() {
		_, err := l.Receive(t.Context(), ch)
		errc <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, channels.ErrClosed) {
			t.Errorf("Receive blocked during Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive blocked during Close has not returned after 10 s")
	}

	ctx := timeout(t)
	_, receiveErr := l.Receive(ctx, ch)
	_, newChannelErr := l.NewChannel(ctx, "p.")
	calls := []struct {
		name string
		err  error
	}{
		{"Send", l.Send(ctx, ch, []byte("x"))},
		{"Receive", receiveErr},
		{"NewChannel", newChannelErr},
		{"GroupAdd", l.GroupAdd(ctx, "g", ch)},
		{"GroupDiscard", l.GroupDiscard(ctx, "g", ch)},
		{"GroupSend", l.GroupSend(ctx, "g", []byte("x"))},
		{"Close", l.Close()},
	}
	for _, c := range calls {
		if !errors.Is(c.err, channels.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, c.err)
		}
	}
}
