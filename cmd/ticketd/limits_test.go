package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveLimited serves h with the production server settings, but short
// timeouts, on a loopback socket.
func serveLimited(t *testing.T, h http.Handler) string {
	t.Helper()
	l := defaultLimits()
	l.ReadHeaderTimeout = 300 * time.Millisecond
	l.ReadTimeout = 600 * time.Millisecond
	srv := newHTTPServer(h, l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn (after answering
// whatever it answers) within d: a generous bound, far above the timeout.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

func TestServerDropsSlowClients(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "slow body", http.StatusRequestTimeout)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	cases := []struct {
		name string
		send string // then the client stalls
	}{
		{"headers never finish", "GET / HTTP/1.1\r\nHost: ticketd\r\nX-Slow: 1\r\n"},
		{"body never finishes", "POST / HTTP/1.1\r\nHost: ticketd\r\nContent-Length: 1000\r\n\r\n{\"subject\":"},
		{"nothing at all", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveLimited(t, echo)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			if !closedWithin(t, conn, 20*time.Second) {
				t.Fatal("the server kept a stalled client's connection open")
			}
		})
	}
}

// TestServerKeepsStreamsOpen: the read timeout ends slow requests, not
// long responses (Server-Sent Events stream for as long as the client
// listens).
func TestServerKeepsStreamsOpen(t *testing.T) {
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 4 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(400 * time.Millisecond): // 1.6 s in all, past the 0.6 s read timeout
			}
		}
	})
	addr := serveLimited(t, stream)
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var events []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			events = append(events, line)
		}
	}
	if len(events) != 4 {
		t.Fatalf("stream delivered %d of 4 events (%v, %v)", len(events), events, sc.Err())
	}
}

func TestLoadLimits(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(limits) bool
	}{
		{"defaults", nil, "", func(l limits) bool {
			return l.MaxBodyBytes == 1<<20 && l.ReadHeaderTimeout == 10*time.Second && l.ReadTimeout == 30*time.Second &&
				l.AnonRatePerSecond > 0 && l.TrustedProxies == nil
		}},
		{"overrides", map[string]string{
			"TICKETD_MAX_BODY_BYTES": "4096", "TICKETD_READ_TIMEOUT": "5s", "TICKETD_READ_HEADER_TIMEOUT": "2s",
			"TICKETD_ANON_RATE_LIMIT": "0", "TICKETD_ANON_RATE_BURST": "3", "TICKETD_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
		}, "", func(l limits) bool {
			return l.MaxBodyBytes == 4096 && l.ReadTimeout == 5*time.Second && l.ReadHeaderTimeout == 2*time.Second &&
				l.AnonRatePerSecond == 0 && l.AnonRateBurst == 3 && len(l.TrustedProxies) == 2
		}},
		{"tiny body limit", map[string]string{"TICKETD_MAX_BODY_BYTES": "10"}, "TICKETD_MAX_BODY_BYTES", nil},
		{"bad timeout", map[string]string{"TICKETD_READ_TIMEOUT": "soon"}, "TICKETD_READ_TIMEOUT", nil},
		{"negative rate", map[string]string{"TICKETD_ANON_RATE_LIMIT": "-1"}, "TICKETD_ANON_RATE_LIMIT", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := loadLimits(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(l) {
				t.Fatalf("limits %+v, %v", l, err)
			}
		})
	}
}
