// Package timeouts schedules the deadlines of timed pages, so that a
// participant whose browser is closed still moves on when a page's time is up.
//
// A [Scheduler] holds tasks, each under a key (gotree uses one key per
// participant and page index) with a due time and a payload. When a task falls
// due the scheduler calls the [Handler] it was started with.
//
// # Semantics
//
// Every scheduler holds the same rules, checked by the conformance suite in
// package timeoutstest:
//
//   - Scheduling under a key that already has a task replaces it: the task
//     fires once, at the new time, with the new payload.
//   - Cancel removes a task; cancelling an unknown key is not an error.
//   - A task due in the past fires at once.
//   - Delivery is at least once. A handler that returns an error is called
//     again later, with back-off; a task is never dropped because its
//     handler failed. The handler makes delivery exactly once by checking,
//     under the same guard as a participant's own submission, that the
//     participant is still on the page.
//   - Run blocks until its context is done, then waits for running handlers.
//
// [Local] is the in-process scheduler, used when no Redis is configured. Its
// tasks live in memory; gotree stores every deadline in its database and
// schedules them again when a process starts, so a restart loses none.
// Package timeouts/asynq holds a durable scheduler on Redis.
package timeouts
