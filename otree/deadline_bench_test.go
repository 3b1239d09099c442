package otree_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// deadlineAt is the instant every participant's deadline falls on in
// BenchmarkDeadlines.
var deadlineAt time.Time

type dlPage struct{ otree.Page }

func (dlPage) Timeout(p *tmPlayer) time.Duration { return time.Until(deadlineAt) }

var deadlineApp = &otree.App[tmSub, tmGroup, tmPlayer]{
	Name: "deadlines", Pages: []otree.AnyPage{dlPage{}, tmEnd{}},
}

var deadlineProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "deadlines", Apps: []otree.Application{deadlineApp}, NumDemoParticipants: 1},
}}

// BenchmarkDeadlines starts 1,000 participants on a page whose deadlines
// all fall on the same instant, with no browser open, and reports how late
// the last and the 99th percentile of them were advanced.
func BenchmarkDeadlines(b *testing.B) {
	for _, db := range otreetest.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			s := otreetest.NewServerOn(b, db, deadlineProject, &otree.ServerOptions{Logger: quietLogger()})
			for range b.N {
				benchDeadlines(b, s, 1000)
			}
		})
	}
}

func benchDeadlines(b *testing.B, s *otreetest.Server, n int) {
	ctx := context.Background()
	code, err := s.CreateSession(ctx, otree.SessionOptions{Config: "deadlines", Participants: n})
	if err != nil {
		b.Fatal(err)
	}
	info := getSession(b, s.URL, code)
	deadlineAt = time.Now().Add(time.Duration(n)*4*time.Millisecond + 2*time.Second)
	c := newClient(b, s.URL)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, p := range info.Participants {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.follow("/InitializeParticipant/" + p.Code)
		})
	}
	wg.Wait()
	if time.Now().After(deadlineAt) {
		b.Fatalf("starting %d participants took past their deadline", n)
	}
	db := openDB(b, s)
	for {
		var done int64
		db.Raw(`SELECT count(*) FROM otree_page_time pt JOIN otree_session s ON s.id = pt.session_id
			WHERE s.code = ? AND pt.timeout_happened`, code).Scan(&done)
		if done == int64(n) {
			break
		}
		if time.Since(deadlineAt) > time.Minute {
			b.Fatalf("only %d of %d participants advanced a minute after the deadline", done, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var completed []time.Time
	db.Raw(`SELECT pt.completed_at FROM otree_page_time pt JOIN otree_session s ON s.id = pt.session_id
		WHERE s.code = ?`, code).Scan(&completed)
	late := make([]time.Duration, len(completed))
	for i, at := range completed {
		late[i] = at.Sub(deadlineAt)
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	b.ReportMetric(float64(late[len(late)-1].Milliseconds()), "max-late-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Milliseconds()), "p99-late-ms")
	b.ReportMetric(float64(late[len(late)/2].Milliseconds()), "p50-late-ms")
}
