package procs

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseProcfile(t *testing.T) {
	list, err := ParseProcfile(strings.NewReader("# comment\n\nweb: ./app runserver\nworker: ./app runworker\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Proc{{"web", "./app runserver"}, {"worker", "./app runworker"}}
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Errorf("ParseProcfile = %v, want %v", list, want)
	}
	if _, err := ParseProcfile(strings.NewReader("just a command\n")); err == nil {
		t.Error("a line without a name was accepted")
	}
}

// syncBuffer is a strings.Builder safe for the writers of several procs.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Output is prefixed by name; when one proc exits, the others stop.
func TestRunPrefixesAndStopsAll(t *testing.T) {
	var out syncBuffer
	start := time.Now()
	err := Run(context.Background(), []Proc{
		{"short", "echo hello; echo $GREETING; sleep 0.5; exit 3"},
		{"long", "echo waiting; sleep 30"},
	}, []string{"GREETING=hi"}, &out, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "short exited") {
		t.Errorf("Run error %v, want short's exit", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Run took %v: the long proc was not stopped", time.Since(start))
	}
	for _, line := range []string{"short | hello", "short | hi", "long  | waiting"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output %q lacks %q", out.String(), line)
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out syncBuffer
	if err := Run(ctx, []Proc{{"a", "sleep 30"}, {"b", "sleep 30"}}, nil, &out, time.Second); err != nil {
		t.Errorf("Run after cancel: %v, want nil", err)
	}
}
