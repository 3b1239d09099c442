// Package procs runs a set of named commands as child processes, as a
// Procfile runner does: each line of their output is prefixed with the
// command's name, and when one exits or the context ends, all are stopped.
package procs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A Proc is one named command, run with sh -c.
type Proc struct {
	Name    string
	Command string
}

// ParseProcfile reads a Procfile: lines of "name: command", with blank
// lines and lines starting with # ignored.
func ParseProcfile(r io.Reader) ([]Proc, error) {
	var out []Proc
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(line, ":")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		if !ok || name == "" || cmd == "" {
			return nil, fmt.Errorf("procfile line %d: want \"name: command\", got %q", n, line)
		}
		out = append(out, Proc{Name: name, Command: cmd})
	}
	return out, sc.Err()
}

// Run starts every proc with env added to this process's environment and
// waits. When ctx ends or any proc exits, it sends SIGTERM to all, waits up
// to grace, then kills what is left. It returns the first proc's failure.
func Run(ctx context.Context, list []Proc, env []string, out io.Writer, grace time.Duration) error {
	if len(list) == 0 {
		return errors.New("procs: nothing to run")
	}
	width := 0
	for _, p := range list {
		width = max(width, len(p.Name))
	}
	var mu sync.Mutex // serializes lines written to out
	var copying sync.WaitGroup
	done := make(chan result, len(list))
	var cmds []*exec.Cmd
	for _, p := range list {
		w := prefixer(out, &mu, &copying, fmt.Sprintf("%-*s | ", width, p.Name))
		cmd, err := start(p, env, w)
		if err != nil {
			w.Close()
			stopAll(cmds, grace)
			return err
		}
		cmds = append(cmds, cmd)
		go func() {
			err := cmd.Wait()
			w.Close()
			done <- result{p.Name, err}
		}()
	}
	var first result
	got := 0
	select {
	case first = <-done:
		got++
	case <-ctx.Done():
	}
	stopAll(cmds, grace)
	for ; got < len(cmds); got++ {
		<-done
	}
	copying.Wait()
	if first.name != "" && ctx.Err() == nil {
		if first.err != nil {
			return fmt.Errorf("%s exited: %w", first.name, first.err)
		}
		return fmt.Errorf("%s exited", first.name)
	}
	return nil
}

type result struct {
	name string
	err  error
}

func start(p Proc, env []string, w io.Writer) (*exec.Cmd, error) {
	cmd := exec.Command("sh", "-c", p.Command)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group, so that stopping it stops what it started;
	// SIGTERM if this process dies, so that no child outlives a killed
	// runner.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Name, err)
	}
	return cmd, nil
}

// stopAll sends SIGTERM to every process group, then SIGKILL after grace.
func stopAll(cmds []*exec.Cmd, grace time.Duration) {
	for _, c := range cmds {
		signalGroup(c, syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for _, c := range cmds {
		for time.Now().Before(deadline) && alive(c) {
			time.Sleep(20 * time.Millisecond)
		}
		signalGroup(c, syscall.SIGKILL)
	}
}

func signalGroup(c *exec.Cmd, sig syscall.Signal) {
	if c.Process != nil {
		syscall.Kill(-c.Process.Pid, sig)
	}
}

func alive(c *exec.Cmd) bool {
	return c.Process != nil && syscall.Kill(c.Process.Pid, 0) == nil
}

// prefixer returns a writer that writes each line with prefix in front,
// until it is closed.
func prefixer(out io.Writer, mu *sync.Mutex, wg *sync.WaitGroup, prefix string) io.WriteCloser {
	r, w := io.Pipe()
	wg.Go(func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(out, "%s%s\n", prefix, sc.Text())
			mu.Unlock()
		}
		io.Copy(io.Discard, r)
	})
	return w
}
