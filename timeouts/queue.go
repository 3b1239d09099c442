package timeouts

import "time"

// An entry is a task held by a Local scheduler, waiting or running.
type entry struct {
	task  Task
	due   time.Time // when to run next: task.At, or later after a failure
	tries int       // failed runs so far
	index int       // position in the queue, or -1 while not queued
}

// A queue is a min-heap of entries, earliest due first. It implements
// [container/heap.Interface].
type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil // let the entry be collected once it has run
	e.index = -1
	*q = old[:n-1]
	return e
}
