package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A proc is a child process of the test, in a process group of its own so
// that killing it also kills the processes it started (develop and
// prodserver run commands through sh). Its output is kept, and logged if
// the test fails.
type proc struct {
	name    string
	cmd     *exec.Cmd
	out     *output
	started time.Time

	exited   chan struct{} // closed when the process has exited
	err      error         // Wait's result, set before exited is closed
	exitedAt time.Time     // set before exited is closed
}

// An output collects what a process writes; it is safe for concurrent use.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// childEnv is this process's environment without the settings a gotree
// command reads, plus env.
func childEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "DATABASE_URL", name == "REDIS_URL", name == "PORT",
			strings.HasPrefix(name, "OTREE_"), strings.HasPrefix(name, "GOTREE_"):
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

// startProc starts bin with args in dir (a fresh temporary directory if
// empty) with env added to a clean environment. The process is killed when
// the test ends.
func startProc(t testing.TB, name, bin, dir string, env []string, args ...string) *proc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = childEnv(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{name: name, cmd: cmd, out: &output{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.started = time.Now()
	go func() {
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s (%s):\n%s", name, strings.Join(cmd.Args, " "), indent(p.out.String()))
		}
	})
	return p
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (none)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// kill sends SIGKILL to the process, its process group and every process
// descended from it, and waits for the process to exit. Killing an exited
// process does nothing. The descendants matter for prodserver and develop,
// which put each of their processes in a group of its own: killed alone,
// they would leave those running, still consuming from the test's Redis.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	pid := p.cmd.Process.Pid
	tree := descendants(pid)
	syscall.Kill(-pid, syscall.SIGKILL)
	for _, d := range tree {
		syscall.Kill(d, syscall.SIGKILL)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// descendants lists the processes descended from pid, from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses and
		// may hold spaces, are the state and the parent's pid.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], id)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitOutput waits until the process's output matches re and returns the
// first match's submatches. It fails the test if the process exits first
// or limit passes.
func (p *proc) waitOutput(t testing.TB, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		if !p.running() {
			t.Fatalf("%s exited (%v) before printing %q", p.name, p.err, re)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed no %q within %v", p.name, re, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits up to limit for the process to exit and returns its exit
// code, or -1 if it was still running (it is then killed).
func (p *proc) wait(limit time.Duration) int {
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.kill()
		return -1
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

var (
	servingRE = regexp.MustCompile(`serving on http://(?:localhost|127\.0\.0\.1):(\d+)`)
	runningRE = regexp.MustCompile(`gotree: running .*\(Ctrl\+C to stop\)`)
)

// startServer starts a command that serves HTTP, such as
// `runserver 127.0.0.1:0 --noworker`, and returns the process and the base
// URL it printed.
func startServer(t testing.TB, name, bin, dir string, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, name, bin, dir, env, args...)
	m := p.waitOutput(t, servingRE, 30*time.Second)
	return p, "http://127.0.0.1:" + m[1]
}

// startWorker starts a worker command, such as runtimeoutworker, and waits
// until it says it runs.
func startWorker(t testing.TB, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := startProc(t, name, bin, "", env, args...)
	p.waitOutput(t, runningRE, 30*time.Second)
	return p
}
