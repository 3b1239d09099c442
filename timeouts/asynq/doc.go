// Package asynq holds a [timeouts.Scheduler] that keeps its tasks in Redis,
// through the asynq task queue, so that they survive a restart and any number
// of processes can share them.
//
// Start with [New], which connects to Redis. A web process that only
// schedules calls [Scheduler.Schedule] and [Scheduler.Cancel]; a worker
// process calls [Scheduler.Run]. One process may do both.
//
// # How tasks map onto asynq
//
// Each task is an asynq task in the queue named by [Options.Queue], whose ID
// is the queue name, a slash and the task's key (asynq's cancellation
// signals reach every queue, so IDs must differ across queues). Scheduling a
// key that already has a task deletes that task and enqueues the new one;
// scheduling the same task again, before it runs, changes nothing.
// Completed tasks are not retained, so their key is free again at once.
// A failing handler makes asynq retry the task with exponential back-off,
// practically without limit (2³¹−1 retries), so a database that is down for a
// while delays tasks but drops none.
//
// Redis keeps process times in whole seconds, and a worker finds due tasks
// by polling. So that tasks still fire within milliseconds of their
// deadline, a task's process time is a second before its due time: Run takes
// it from Redis one to two seconds early, holds it, and calls the handler at
// the exact due time. Schedule and Cancel revoke a held task through a marker
// key next to asynq's keys and a cancellation signal, and it ends without
// running.
//
// # Caveats
//
// A worker that dies while holding or running tasks leaves them to asynq's
// recovery, in any worker on the queue, which runs them again one to two
// minutes later, once their lease has expired. Holding tasks early widens
// that exposure by up to two seconds per task. (gotree does not rely on
// that recovery: it keeps each deadline in its database and submits those
// overdue itself.)
//
// Replacing a task is two steps, a delete then an enqueue: a process that
// dies between them leaves no task under the key. gotree keeps each deadline
// in its database and schedules it again when a process starts.
//
// A task whose handler is running cannot be deleted, so Schedule and Cancel
// for its key wait until the handler returns, or until their context is done.
// So a handler must not schedule or cancel its own key: the call would wait
// for the handler itself until the call's context is done.
//
// Retry delays are whole seconds in Redis too, so a delay may come out up to
// a second shorter than the back-off.
package asynq
