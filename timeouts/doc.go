// Package timeouts schedules the deadlines of timed pages, so that a
// participant whose browser is closed still moves on when a page's time is up.
//
// A [Scheduler] holds tasks, each under a key (gotree uses one key per
// participant and page index) with a due time and a payload. When a task falls
// due the scheduler calls the [Handler] it was started with. Start with
// [NewLocal], or with package timeouts/asynq when several processes share the
// work.
//
// # Semantics
//
// Every scheduler holds the same rules, checked by the conformance suite in
// package timeoutstest:
//
//   - A task fires once, at its due time: never before it, and as soon after
//     it as the scheduler can. A task due in the past fires at once.
//   - Scheduling under a key that already has a task replaces it: the task
//     fires once, at the new time, with the new payload. This holds while the
//     old task's handler runs: if that handler fails, the old task is not
//     retried. A key must not be empty ([ErrNoKey]).
//   - Cancel removes a task; a task cancelled while its handler runs is not
//     retried. Cancelling an unknown key is not an error.
//   - Delivery is at least once. A handler that returns an error is called
//     again later, with back-off; a task is never dropped because its
//     handler failed. The handler makes delivery exactly once by checking,
//     under the same guard as a participant's own submission, that the
//     participant is still on the page.
//   - Tasks may be scheduled before Run; they wait for it.
//   - Run blocks until its context is done, then waits for running handlers.
//
// A scheduler does not order tasks due at the same time. Handlers may run at
// once, even for one key: a task's replacement may fire while the task it
// replaced still runs.
//
// # Implementations
//
// [Local] is the in-process scheduler, used when no Redis is configured. One
// timer wakes it at the earliest due time, and a bounded pool of goroutines
// runs handlers. Its tasks live in memory; gotree stores every deadline in its
// database and schedules them again when a process starts, so a restart loses
// none. Package timeouts/asynq holds a durable scheduler on Redis.
package timeouts
