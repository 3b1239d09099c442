package load

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"
)

// A Report is the outcome of a [Run].
type Report struct {
	SessionConfig string
	Sessions      []string // session codes
	Participants  int
	Finished      int // participants who reached the last page

	// Setup is the time taken to create the sessions and read their
	// participants; those requests are not counted below.
	Setup time.Duration

	// Duration runs from the participants' start to the last one's end.
	Duration time.Duration

	// Requests is the number of HTTP requests participants made,
	// redirects included, and RequestsPerSecond is Requests over Duration.
	Requests          int
	RequestsPerSecond float64
	Latency           Latency
	Status            map[int]int // responses by HTTP status
	Routes            []Route     // by route, sorted by name

	// WaitPages counts the wait pages passed through the wait socket, and
	// Wait is the time from opening the socket to the ready message.
	WaitPages int
	Wait      Latency

	// Errors are the first [MaxErrors] errors; ErrorCount counts them all.
	// A participant stops at its first error.
	Errors     []*Error
	ErrorCount int
}

// MaxErrors is the number of errors a [Report] keeps.
const MaxErrors = 100

// Latency summarises durations: their mean and percentiles. The zero value
// means no samples.
type Latency struct {
	Mean, P50, P95, P99, Max time.Duration
}

// A Route is the requests of one kind: a method and a page, such as
// "POST public_goods/Contribute", or "GET InitializeParticipant".
type Route struct {
	Name     string
	Requests int
	Latency  Latency
}

// An Error is a participant's request that failed: no response, a status
// other than the expected one, or a page that did not move the participant on.
type Error struct {
	Participant string // the participant's code
	Method      string // "GET", "POST" or "WS" for a wait socket
	Path        string
	Status      int // the HTTP status, 0 when there was no response
	Msg         string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("participant %s: %s %s", e.Participant, e.Method, e.Path)
	if e.Status != 0 {
		s += fmt.Sprintf(": status %d", e.Status)
	}
	return s + ": " + e.Msg
}

// Print writes the report as text.
func (r *Report) Print(w io.Writer) {
	sessions := "sessions"
	if len(r.Sessions) == 1 {
		sessions = "session"
	}
	fmt.Fprintf(w, "%s: %d participants in %d %s (set up in %v), %d finished\n",
		r.SessionConfig, r.Participants, len(r.Sessions), sessions, r.Setup.Round(time.Millisecond), r.Finished)
	fmt.Fprintf(w, "requests  %d in %v: %.0f/s\n", r.Requests, r.Duration.Round(time.Millisecond),
		r.RequestsPerSecond)
	fmt.Fprintf(w, "latency   %v\n", r.Latency)
	if r.WaitPages > 0 {
		fmt.Fprintf(w, "waits     %d by socket: %v\n", r.WaitPages, r.Wait)
	}
	fmt.Fprintf(w, "status   ")
	for _, s := range slices.Sorted(maps.Keys(r.Status)) {
		fmt.Fprintf(w, " %d: %d", s, r.Status[s])
	}
	fmt.Fprintf(w, "\nerrors    %d\n", r.ErrorCount)
	for _, rt := range r.Routes {
		fmt.Fprintf(w, "  %-40s %6d  %v\n", rt.Name, rt.Requests, rt.Latency)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "ERROR %v\n", e)
	}
}

func (l Latency) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("mean %s  p50 %s  p95 %s  p99 %s  max %s",
		ms(l.Mean), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
}

// summarise sorts ds and returns its percentiles, by the nearest-rank
// method.
func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return Latency{
		Mean: sum / time.Duration(len(ds)),
		P50:  rank(0.50), P95: rank(0.95), P99: rank(0.99),
		Max: ds[len(ds)-1],
	}
}
