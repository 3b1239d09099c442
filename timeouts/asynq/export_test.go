package asynq

import "context"

// MarkRevoked marks the running task under key as revoked, as Schedule and
// Cancel do, but sends no cancellation signal: it stands for a lost signal.
func (s *Scheduler) MarkRevoked(ctx context.Context, key string) error {
	id := s.taskID(key)
	info, err := s.insp.GetTaskInfo(s.opts.Queue, id)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.revokedKey(id), version(info.Payload), revokedTTL).Err()
}
