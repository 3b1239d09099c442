package channelstest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/gotree/gotree/channels"
)

// callTimeout bounds every call the suite expects to return, so that a
// broken layer fails the test instead of hanging it.
const callTimeout = 10 * time.Second

// timeout returns a context that ends with the test or after callTimeout.
func timeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newChannel(t testing.TB, l channels.Layer) string {
	t.Helper()
	name, err := l.NewChannel(timeout(t), "test.")
	if err != nil {
		t.Fatalf("NewChannel(%q) = %v, want nil", "test.", err)
	}
	return name
}

func send(t testing.TB, l channels.Layer, channel, msg string) {
	t.Helper()
	if err := l.Send(timeout(t), channel, []byte(msg)); err != nil {
		t.Fatalf("Send(%q, %q) = %v, want nil", channel, msg, err)
	}
}

func receive(t testing.TB, l channels.Layer, channel string) []byte {
	t.Helper()
	msg, err := l.Receive(timeout(t), channel)
	if err != nil {
		t.Fatalf("Receive(%q) = %v, want nil", channel, err)
	}
	return msg
}

// wantNext fails the test unless the next message on channel is want.
func wantNext(t testing.TB, l channels.Layer, channel, want string) {
	t.Helper()
	if got := string(receive(t, l, channel)); got != want {
		t.Fatalf("Receive(%q) = %q, want %q", channel, got, want)
	}
}

// wantEmpty fails the test unless channel holds no message. It sends a
// marker and checks that the marker comes out first, which needs no timeout
// and so cannot pass by accident on a slow machine.
func wantEmpty(t testing.TB, l channels.Layer, channel string) {
	t.Helper()
	marker := "marker " + rand.Text()
	send(t, l, channel, marker)
	if got := string(receive(t, l, channel)); got != marker {
		t.Fatalf("Receive(%q) = %q, want no message before the marker", channel, got)
	}
}

func groupAdd(t testing.TB, l channels.Layer, group, channel string) {
	t.Helper()
	if err := l.GroupAdd(timeout(t), group, channel); err != nil {
		t.Fatalf("GroupAdd(%q, %q) = %v, want nil", group, channel, err)
	}
}
