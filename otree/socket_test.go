package otree_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gotree/gotree/channels"
	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// slowJoin is a channel layer whose GroupAdd is slow, widening the window
// between a wait-page socket's connect and its joining the group.
type slowJoin struct {
	channels.Layer
	delay time.Duration
}

func (l slowJoin) GroupAdd(ctx context.Context, group, channel string) error {
	time.Sleep(l.delay)
	return l.Layer.GroupAdd(ctx, group, channel)
}

// A group released while a waiting socket is still joining its group must
// still reach that socket.
func TestReleaseDuringSocketJoin(t *testing.T) {
	layer := slowJoin{channels.NewMemory(nil), 300 * time.Millisecond}
	defer layer.Close()
	s := otreetest.NewServer(t, pgProject, &otree.ServerOptions{Layer: layer, Logger: quietLogger()})
	_, codes := session(t, s.URL, "pgg", 3)
	c := newClient(t, s.URL)
	var paths []string
	for _, code := range codes {
		path, _ := c.follow("/InitializeParticipant/" + code)
		paths = append(paths, path)
	}
	c.post(paths[0], url.Values{"contribution": {"1"}})
	done := make(chan error, 1)
	go func() { done <- waitReady(t, s.URL, codes[0], 2, 5*time.Second) }()
	time.Sleep(100 * time.Millisecond) // the socket is connecting, not yet in the group
	c.post(paths[1], url.Values{"contribution": {"1"}})
	c.post(paths[2], url.Values{"contribution": {"1"}})
	if err := <-done; err != nil {
		t.Fatalf("the waiting socket was not told of the release: %v", err)
	}
}

// A socket for a participant who does not exist is closed.
func TestSocketForUnknownParticipantCloses(t *testing.T) {
	forEachDB(t, pgProject, func(t *testing.T, s *otreetest.Server) {
		for _, code := range []string{"nosuchcode", "a%00b", "a%FFb"} {
			err := waitReady(t, s.URL, code, 1, 5*time.Second)
			if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Errorf("socket of unknown participant %s ended with %v, want a policy-violation close",
					code, err)
			}
		}
	})
}
