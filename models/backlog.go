package models

import "context"

// CountOpenByStatus counts the tickets that are not closed (nor deleted), by
// status, in one GROUP BY that the partial status index
// (tickets_status_idx) answers. Statuses without tickets are absent.
func (s *Store) CountOpenByStatus(ctx context.Context) (map[Status]int64, error) {
	var rows []struct {
		Status Status
		N      int64
	}
	err := s.db.WithContext(ctx).Model(&Ticket{}).
		Select("status, count(*) AS n").
		Where("status <> ?", StatusClosed).
		Group("status").
		Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "count open tickets")
	}
	out := make(map[Status]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
