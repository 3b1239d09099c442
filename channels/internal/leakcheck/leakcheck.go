// Package leakcheck fails a test binary that leaves goroutines running after
// its tests.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// grace is how long goroutines get to finish after the tests: some stop
// shortly after the call that ends them returns, such as a network
// client's reader after Close.
const grace = 5 * time.Second

// Main runs the tests of m and exits, with status 1 if they fail or if
// goroutines other than the main one are still running after grace.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 && !settled() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "leakcheck: goroutines left after the tests: %d\n%s\n",
			runtime.NumGoroutine()-1, buf)
		code = 1
	}
	os.Exit(code)
}

// settled reports whether the main goroutine is the only one left, waiting
// up to grace for the others to end.
func settled() bool {
	deadline := time.Now().Add(grace)
	for runtime.NumGoroutine() > 1 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
