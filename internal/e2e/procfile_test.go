package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// prodserver runs the processes of a Procfile, a web server and a worker,
// on the embedded SQLite database: both start and keep running. Each
// round uses a fresh directory, hence a fresh database that both processes
// create at once.
func TestProcfileOnSQLite(t *testing.T) {
	slow(t)
	bin := examplesBin.get(t)
	redisURL := redisDB(t)
	q := shellQuote(bin)
	procfile := "web: " + q + " runserver 127.0.0.1:0 --noworker\nworker: " + q + " runworker\n"
	const rounds = 8
	failed := 0
	for round := 1; round <= rounds; round++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte(procfile), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProc(t, "prodserver", bin, dir, []string{"REDIS_URL=" + redisURL}, "prodserver", "0")
		ok := waitBoth(p, 30*time.Second)
		time.Sleep(time.Second)
		if !ok || !p.running() {
			failed++
			t.Errorf("round %d: the Procfile's processes did not both start and keep running:\n%s",
				round, indent(p.out.String()))
		}
		p.kill()
	}
	if failed > 0 {
		t.Errorf("%d of %d rounds failed", failed, rounds)
	}
}

var (
	webServingRE    = regexp.MustCompile(`web +\| gotree: serving on`)
	workerRunningRE = regexp.MustCompile(`worker +\| gotree: running`)
)

// waitBoth reports whether the output of a prodserver running a web and a
// worker entry shows both running within limit, with the prodserver still
// up.
func waitBoth(p *proc, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && p.running() {
		out := p.out.String()
		if webServingRE.MatchString(out) && workerRunningRE.MatchString(out) &&
			!strings.Contains(out, "error:") {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
