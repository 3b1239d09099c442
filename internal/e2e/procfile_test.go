package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// prodserver runs the processes of a Procfile, two web servers, a channels
// worker and a timeout worker, on the embedded SQLite database: all start
// and keep running. Each round uses a fresh directory, hence a fresh
// database that the four processes create at once.
func TestProcfileOnSQLite(t *testing.T) {
	slow(t)
	bin := examplesBin.get(t)
	redisURL := redisDB(t)
	q := shellQuote(bin)
	procfile := "web: " + q + " runserver 127.0.0.1:0 --noworker\n" +
		"web2: " + q + " runserver 127.0.0.1:0 --noworker\n" +
		"channels: " + q + " runchannelsworker\n" +
		"timeouts: " + q + " runtimeoutworker\n"
	const rounds = 8
	failed := 0
	for round := 1; round <= rounds; round++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte(procfile), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProc(t, "prodserver", bin, dir, []string{"REDIS_URL=" + redisURL}, "prodserver", "0")
		ok := waitAllRunning(p, 30*time.Second)
		time.Sleep(500 * time.Millisecond)
		if !ok || !p.running() {
			failed++
			t.Errorf("round %d: the Procfile's processes did not all start and keep running:\n%s",
				round, indent(p.out.String()))
		}
		p.kill()
	}
	if failed > 0 {
		t.Errorf("%d of %d rounds failed", failed, rounds)
	}
}

var procStartedRE = []*regexp.Regexp{
	regexp.MustCompile(`(?m)^web +\| gotree: serving on`),
	regexp.MustCompile(`(?m)^web2 +\| gotree: serving on`),
	regexp.MustCompile(`(?m)^channels +\| gotree: running`),
	regexp.MustCompile(`(?m)^timeouts +\| gotree: running`),
}

// waitAllRunning reports whether the output of a prodserver running the
// Procfile of TestProcfileOnSQLite shows every process running within
// limit, with no error and the prodserver still up.
func waitAllRunning(p *proc, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && p.running() {
		out := p.out.String()
		if strings.Contains(out, "error") {
			return false
		}
		all := true
		for _, re := range procStartedRE {
			all = all && re.MatchString(out)
		}
		if all {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
