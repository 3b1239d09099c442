package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentServer listens on a local port, accepts connections and never
// answers, as a Redis behind a broken network or a wrong service might. It
// returns the address.
func silentServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Every command that needs Redis, given a REDIS_URL where Redis does not
// answer, exits with a failure within 5 s and names the address: with
// nothing listening there, and with a server that accepts connections and
// never answers. The commands run together, each on SQLite in a fresh
// directory, so that only Redis is missing.
func TestRedisUnreachable(t *testing.T) {
	bin := examplesBin.get(t)
	q := shellQuote(bin)
	procfile := "web: " + q + " runserver 127.0.0.1:0 --noworker\nworker: " + q + " runworker\n"
	for _, redis := range []struct {
		name string
		addr func(testing.TB) string
	}{
		{"closed port", closedPort},
		{"silent server", silentServer},
	} {
		t.Run(redis.name, func(t *testing.T) {
			if redis.name == "silent server" && testing.Short() {
				t.Skip("waits for the 4 s Redis timeout; skipped under -short")
			}
			addr := redis.addr(t)
			env := []string{"REDIS_URL=redis://" + addr + "/0"}
			withProcfile := t.TempDir()
			err := os.WriteFile(filepath.Join(withProcfile, "Procfile"), []byte(procfile), 0o644)
			if err != nil {
				t.Fatal(err)
			}
			var procs []*proc
			for _, cmd := range []struct {
				dir  string
				args []string
			}{
				{"", []string{"devserver", "127.0.0.1:0"}},
				{"", []string{"runserver", "127.0.0.1:0", "--noworker"}},
				{"", []string{"runchannelsworker"}},
				{"", []string{"runtimeoutworker"}},
				{"", []string{"runworker"}},
				{"", []string{"develop", "127.0.0.1:0"}},
				{"", []string{"prodserver", "0"}},
				{withProcfile, []string{"prodserver", "0"}},
			} {
				name := strings.Join(cmd.args, " ")
				if cmd.dir != "" {
					name += " (Procfile)"
				}
				procs = append(procs, startProc(t, name, bin, cmd.dir, env, cmd.args...))
			}
			for _, p := range procs {
				checkRedisFailure(t, p, addr)
			}
		})
	}
}

// checkRedisFailure checks that p exits with a failure within 5 s of its
// start and names addr.
func checkRedisFailure(t *testing.T, p *proc, addr string) {
	t.Helper()
	code := p.wait(10*time.Second - time.Since(p.started))
	took := p.exitedAt.Sub(p.started)
	out := p.out.String()
	switch {
	case code == -1:
		t.Errorf("%s: still running after 10 s, want an exit within 5 s", p.name)
		return
	case code == 0:
		t.Errorf("%s: exited with 0 after %v, want a failure", p.name, took)
	case took > 5*time.Second:
		t.Errorf("%s: exited with %d after %v, want within 5 s", p.name, code, took)
	}
	if !strings.Contains(out, addr) {
		t.Errorf("%s: output does not name %s:\n%s", p.name, addr, indent(out))
	}
	t.Logf("%s: exit %d after %v: %s", p.name, code, took.Round(time.Millisecond), firstLine(out, addr))
}

// firstLine returns the first line of s that contains sub, else s's first
// line.
func firstLine(s, sub string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return lines[0]
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
