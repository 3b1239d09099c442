// Package loadbench measures how many participants one gotree server
// carries: its benchmarks start the example games on the embedded SQLite
// database behind a real HTTP server on the loopback interface, and drive
// them with [github.com/gotree/gotree/internal/load] through TCP, hundreds
// of participants at once. Run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./examples/loadbench
//
// Each reports requests/s and the mean, p50, p95, p99 and maximum latency
// of participants' requests besides ns/op (the time of one whole session,
// setup included). Add -v to see the first session's report with the
// latency of each page.
package loadbench
