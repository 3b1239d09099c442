package redis

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// listenSilently returns the address of a server that accepts connections
// and never answers.
func listenSilently(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	return ln.Addr().String()
}

// TestRestart ensures that a layer survives its Redis restarting: a Send
// during the outage fails, a waiting Receive keeps waiting, both work once
// Redis is back, and the loss and the recovery are logged.
func TestRestart(t *testing.T) {
	t.Parallel()
	server := startServer(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	l, err := New(t.Context(), "redis://"+server.addr+"/0", &Options{Logger: logger})
	if err != nil {
		t.Fatalf("New = %v, want nil", err)
	}
	defer l.Close()
	ctx := t.Context()
	if err := l.Send(ctx, "ch", []byte("before")); err != nil {
		t.Fatalf("Send before the restart = %v, want nil", err)
	}
	if msg, err := l.Receive(ctx, "ch"); string(msg) != "before" || err != nil {
		t.Fatalf("Receive before the restart = %q, %v; want %q, nil", msg, err, "before")
	}

	got := make(chan string)
	go func() {
		msg, err := l.Receive(ctx, "ch")
		if err != nil {
			t.Errorf("Receive across the restart = %v, want nil", err)
		}
		got <- string(msg)
	}()
	server.stop(t)
	if err := l.Send(ctx, "ch", []byte("lost")); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Send while Redis is down = %v, want a connection error", err)
	}
	server.start(t)

	sendEventually(t, l, "ch", "after")
	select {
	case msg := <-got:
		if msg != "after" {
			t.Errorf("Receive across the restart = %q, want %q", msg, "after")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive across the restart has not returned 10 s after a send")
	}
	for _, want := range []string{"redis connection lost", "redis connection restored"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestInboxRestart ensures that the inbox survives its Redis restarting: a
// Receive waiting on a channel made by NewChannel keeps waiting, gets a
// message sent once Redis is back, and the loss and the recovery are
// logged.
func TestInboxRestart(t *testing.T) {
	t.Parallel()
	server := startServer(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	url := "redis://" + server.addr + "/0"
	web, err := New(t.Context(), url, &Options{Logger: logger})
	if err != nil {
		t.Fatalf("New = %v, want nil", err)
	}
	defer web.Close()
	ctx := t.Context()
	ch, err := web.NewChannel(ctx, "ws.")
	if err != nil {
		t.Fatalf("NewChannel = %v, want nil", err)
	}

	got := make(chan string)
	go func() {
		msg, err := web.Receive(ctx, ch)
		if err != nil {
			t.Errorf("Receive across the restart = %v, want nil", err)
		}
		got <- string(msg)
	}()
	server.stop(t)
	server.start(t)

	// Another process sends once Redis is back.
	worker, err := New(ctx, url, nil)
	if err != nil {
		t.Fatalf("New after the restart = %v, want nil", err)
	}
	defer worker.Close()
	sendEventually(t, worker, ch, "after")
	select {
	case msg := <-got:
		if msg != "after" {
			t.Errorf("Receive across the restart = %q, want %q", msg, "after")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive across the restart has not returned 10 s after a send")
	}
	for _, want := range []string{"redis connection lost", "redis connection restored"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// sendEventually sends msg once Redis is back: the first attempts after a
// restart may still meet a broken connection.
func sendEventually(t *testing.T, l *Layer, channel, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := l.Send(t.Context(), channel, []byte(msg))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send 10 s after Redis restarted = %v, want nil", err)
		}
		time.Sleep(50 * time.Millisecond) // poll an external process
	}
}

// A server is a redis-server process of a test's own, so that the test can
// stop it without disturbing other tests.
type server struct {
	addr string
	cmd  *exec.Cmd
}

// startServer starts a redis-server on a free port, or skips t if there is
// no redis-server to run. It is stopped when t ends.
func startServer(t *testing.T) *server {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed; it is needed to test restarts")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no")
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// start starts the server and waits until it accepts connections.
func (s *server) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server does not listen on %s after 10 s", s.addr)
		}
		time.Sleep(20 * time.Millisecond) // poll an external process
	}
}

// stop kills the server, if running, and waits for it to exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// A syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
