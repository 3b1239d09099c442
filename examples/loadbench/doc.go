// Package loadbench measures how many participants one gotree server
// carries: its benchmarks start the example games on the embedded SQLite
// database behind a real HTTP server on the loopback interface, and drive
// them with [github.com/gotree/gotree/internal/load] through TCP, hundreds
// of participants at once. Run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./examples/loadbench
//
// Each reports requests/s and the p50, p95 and p99 latency of participants'
// requests besides ns/op (the time of one whole session, setup included).
package loadbench
