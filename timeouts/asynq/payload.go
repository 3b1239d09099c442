package asynq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	hasynq "github.com/hibiken/asynq"

	"github.com/gotree/gotree/timeouts"
)

// taskType is the asynq type name of every task this package enqueues.
const taskType = "gotree:timeout"

// An asynq task's payload is a header followed by the task's payload:
//
//	bytes 0–7   due time, Unix nanoseconds, big-endian
//	bytes 8–15  version: random, distinct for every call of Schedule
//
// The version tells a revoked task from a newer one under the same key.
const headerLen = 16

// newTask returns the asynq task for t, with a fresh version.
func newTask(t timeouts.Task) *hasynq.Task {
	b := make([]byte, headerLen, headerLen+len(t.Payload))
	binary.BigEndian.PutUint64(b[0:8], uint64(t.At.UnixNano()))
	binary.BigEndian.PutUint64(b[8:16], rand.Uint64())
	return hasynq.NewTask(taskType, append(b, t.Payload...))
}

var errForeign = errors.New("not a task of package timeouts/asynq")

// decode returns the task held by an asynq task, its key excepted, and its
// version.
func decode(typ string, b []byte) (timeouts.Task, []byte, error) {
	if typ != taskType || len(b) < headerLen {
		return timeouts.Task{}, nil, fmt.Errorf("task of type %q: %w", typ, errForeign)
	}
	at := time.Unix(0, int64(binary.BigEndian.Uint64(b[0:8])))
	return timeouts.Task{At: at, Payload: b[headerLen:]}, version(b), nil
}

// version returns the version of an encoded payload.
func version(b []byte) []byte {
	if len(b) < headerLen {
		return nil
	}
	return b[8:16]
}

// sameTask reports whether two encoded payloads hold the same due time and
// payload, whatever their versions.
func sameTask(a, b []byte) bool {
	return len(a) >= headerLen && len(b) >= headerLen &&
		bytes.Equal(a[0:8], b[0:8]) && bytes.Equal(a[headerLen:], b[headerLen:])
}
