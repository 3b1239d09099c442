// Package e2e tests gotree as it is deployed: real processes built from the
// examples and from ./testapp, sharing Postgres and Redis, driven over HTTP
// and WebSockets as browsers drive them, and killed the way machines fail.
//
// The tests need Postgres on 127.0.0.1:5432 (TEST_DATABASE_URL overrides)
// and Redis on 127.0.0.1:6379 (the host of REDIS_URL overrides). Without
// them they skip, saying how to start them; under CI=true they fail.
//
// Each test gets a Postgres schema and a Redis database of its own (1 to
// 15, claimed through a key in database 0), and free ports; every process
// it starts is killed when it ends, and the output of each is logged when
// it fails. The binaries are built once per run, without -race.
//
// TestPostgresRestart stops Postgres for about 3 s, so it runs on a
// cluster of its own rather than the shared server: it creates one with
// initdb in a temporary directory and removes it at the end. It needs the
// Postgres programs (in /usr/lib/postgresql/*/bin, else on $PATH) and, as
// root, runuser to run them as the postgres user; without them it skips,
// or fails under CI=true.
//
// -short skips the slow tests. TestTimeoutWorkerKilledHoldingTask takes
// one to two minutes and runs only with GOTREE_E2E_SLOW=1.
//
// The benchmark BenchmarkDeadlinesAcrossProcesses reports how late 1,000
// deadlines falling on one instant fire:
//
//	go test ./internal/e2e -run '^$' -bench DeadlinesAcrossProcesses -benchtime 1x
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binDir holds the binaries built for this run; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gotree-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A binary is a program built once per test run, when a test first needs it.
type binary struct {
	pkg  string
	once sync.Once
	path string
	err  error
}

var (
	examplesBin = &binary{pkg: "github.com/gotree/gotree/examples"}
	testappBin  = &binary{pkg: "github.com/gotree/gotree/internal/e2e/testapp"}
)

// get builds the binary if needed and returns its path. The children are
// built without -race even when the tests run with it: they are the
// system under test, not the code checked for races here.
func (b *binary) get(tb testing.TB) string {
	tb.Helper()
	b.once.Do(func() {
		b.path = filepath.Join(binDir, filepath.Base(b.pkg))
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		tb.Logf("go build %s: %v", b.pkg, time.Since(start).Round(time.Millisecond))
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}
