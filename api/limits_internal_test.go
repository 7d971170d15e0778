package api

import (
	"fmt"
	"testing"
	"time"
)

func TestBoundedLimiter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := newBoundedLimiter(1, 1, 3)
	for i := range 1000 {
		l.allow(fmt.Sprint("addr-", i), now)
		if len(l.users) > 3 {
			t.Fatalf("%d buckets after %d addresses, want at most 3", len(l.users), i+1)
		}
	}
	// The newest address keeps its (now empty) bucket.
	if ok, wait := l.allow("addr-999", now); ok || wait < 1 {
		t.Fatalf("second request from the newest address: ok %v, wait %d", ok, wait)
	}
}

func TestClientKey(t *testing.T) {
	cases := []struct{ ip, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"not an ip", "not an ip"},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			if got := clientKey(tc.ip); got != tc.want {
				t.Fatalf("clientKey(%q) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
}
