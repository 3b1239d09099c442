package e2e

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// 200 participants of a session of 300 wait on a wait page, their sockets
// (a wait-page and an auto-advance socket each, as the page script opens)
// opened at once across two web servers; when their groups complete, every
// one is released by a socket within 5 s, without waiting for the page
// script's 20 s check.
func TestManyWaitSockets(t *testing.T) {
	slow(t)
	const n = 300
	c := startCluster(t, examplesBin.get(t), 2)
	_, members := c.publicGoodsSession(t, n, func(id int) int { return id % 101 })
	byGroup := map[int][]*pgMember{}
	for _, m := range members {
		byGroup[m.group] = append(byGroup[m.group], m)
	}
	for _, g := range byGroup {
		sort.Slice(g, func(i, j int) bool { return g[i].idInGroup < g[j].idInGroup })
	}
	run := func(list []*pgMember, f func(*pgMember) error) {
		t.Helper()
		var all errs
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, m := range list {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				all.add(f(m))
			})
		}
		wg.Wait()
		all.report(t)
	}
	run(members, func(m *pgMember) error { return m.start() })
	var early, last []*pgMember
	for _, g := range byGroup {
		early = append(early, g[0], g[1])
		last = append(last, g[2])
	}
	run(early, func(m *pgMember) error { return m.submit(contributionForm(m)) })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var all errs
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := map[*pgMember]time.Time{}
	for _, m := range early {
		wg.Go(func() {
			if err := m.waitPage(ctx); err != nil {
				all.add(err)
				return
			}
			mu.Lock()
			left[m] = time.Now()
			mu.Unlock()
		})
	}
	time.Sleep(2 * time.Second)
	completed := time.Now()
	run(last, func(m *pgMember) error { return m.submit(contributionForm(m)) })
	t.Logf("the last members of %d groups submitted in %v", len(last), time.Since(completed))
	wg.Wait()
	all.report(t)
	var late []time.Duration
	for _, m := range early {
		d := left[m].Sub(completed)
		late = append(late, d)
		if d > 5*time.Second {
			t.Errorf("%s: released %v after the groups began to complete, want within 5 s", m, d)
		}
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	t.Logf("release after the completions began: median %v, max %v", late[len(late)/2], late[len(late)-1])
}
