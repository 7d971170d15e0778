package monitoring

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBacklog(t *testing.T) {
	var (
		calls  int
		counts = map[string]int64{"new": 2, "pending": 1}
		fail   error
	)
	count := func(context.Context) (map[string]int64, error) {
		calls++
		return counts, fail
	}
	b := NewBacklog(count, []string{"new", "open", "pending"}, 5*time.Second, nil)
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(b)

	value := func(status string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == status {
					return m.GetGauge().GetValue()
				}
			}
		}
		return -1
	}

	t.Run("every open status, zero when none", func(t *testing.T) {
		if n := testutil.CollectAndCount(b, "ticketd_tickets_open"); n != 3 {
			t.Fatalf("%d series, want 3", n)
		}
		if got := value("open"); got != 0 {
			t.Errorf("open = %v, want 0", got)
		}
	})
	t.Run("cached within the ttl", func(t *testing.T) {
		before := calls
		counts = map[string]int64{"new": 7}
		now = now.Add(4 * time.Second)
		if got := value("new"); got != 2 || calls != before {
			t.Errorf("new = %v after %d queries, want the cached 2 and no query", got, calls-before)
		}
		now = now.Add(2 * time.Second)
		if got := value("new"); got != 7 || calls != before+1 {
			t.Errorf("new = %v after %d queries, want 7 after one", got, calls-before)
		}
	})
	t.Run("a failing database drops the series and is not cached", func(t *testing.T) {
		now = now.Add(time.Minute)
		fail = errors.New("down")
		if n := testutil.CollectAndCount(b, "ticketd_tickets_open"); n != 0 {
			t.Errorf("%d series while the database fails, want none", n)
		}
		fail = nil
		before := calls
		if got := value("new"); got != 7 || calls != before+1 {
			t.Errorf("after recovery new = %v with %d queries, want 7 with one", got, calls-before)
		}
	})
}
