package e2e

import (
	"strings"
	"testing"
	"time"
)

// With Postgres stopped around a page's deadline, for about 3 s, the
// timeout worker (asynq) fails to submit the page and retries: the
// participant advances once Postgres is back, exactly once. The processes
// use a Postgres cluster of the test's own, the one it stops.
func TestPostgresRestart(t *testing.T) {
	slow(t)
	pg := newPostgres(t)
	c := startClusterOn(t, testappBin.get(t), 1, pg.url())
	info := createSession(t, c.webs[0], "solo", 1, map[string]any{"timeout_ms": 3000})
	p := participants(info, c.webs[0])[0]
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	deadline, _ := expiry(t, c.db, p.code)

	time.Sleep(time.Until(deadline) - time.Second)
	stopped := time.Now()
	if err := pg.stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(deadline) + 2*time.Second)
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("Postgres was down from %v before the deadline to %v after it (%v)",
		deadline.Sub(stopped).Round(time.Millisecond), back.Sub(deadline).Round(time.Millisecond),
		back.Sub(stopped).Round(time.Millisecond))

	seen := submittedOnce(t, c.db, info.Code, p.code, 20*time.Second)
	t.Logf("submitted %v after Postgres was back", seen.Sub(back).Round(time.Millisecond))
	if seen.Sub(back) > 10*time.Second {
		t.Errorf("submitted %v after Postgres was back, want within 10 s", seen.Sub(back))
	}
	if out := c.timeouts.out.String(); !strings.Contains(out, "timeout handler failed") {
		t.Errorf("the timeout worker logged no failed attempt, so the deadline did not fall while "+
			"Postgres was down; its output:\n%s", indent(out))
	}
}
