package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/api"
)

// limits are the defences against hostile clients that are configured per
// deployment.
type limits struct {
	// ReadHeaderTimeout and ReadTimeout bound how long a client may take
	// to send its headers and its whole request: a slow client holds a
	// connection no longer than that. There is no WriteTimeout: streams
	// (Server-Sent Events) write for as long as the client listens, and a
	// ReadTimeout does not end them (net/http clears the read deadline
	// once the request is read).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	MaxHeaderBytes    int
	MaxBodyBytes      int64
	AnonRatePerSecond float64
	AnonRateBurst     int
	TrustedProxies    []string
}

func defaultLimits() limits {
	return limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxBodyBytes:      api.DefaultMaxBodyBytes,
		AnonRatePerSecond: api.DefaultAnonRatePerSecond,
		AnonRateBurst:     api.DefaultAnonRateBurst,
	}
}

// loadLimits reads the limits' environment variables over the defaults.
func loadLimits(getenv func(string) string) (limits, error) {
	l := defaultLimits()
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"TICKETD_READ_HEADER_TIMEOUT", &l.ReadHeaderTimeout},
		{"TICKETD_READ_TIMEOUT", &l.ReadTimeout},
	}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return l, fmt.Errorf("%s %q: want a positive duration such as 10s", d.name, v)
			}
			*d.dst = t
		}
	}
	if v := getenv("TICKETD_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return l, fmt.Errorf("TICKETD_MAX_BODY_BYTES %q: want a number of bytes, at least 1024", v)
		}
		l.MaxBodyBytes = n
	}
	if v := getenv("TICKETD_ANON_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return l, fmt.Errorf("TICKETD_ANON_RATE_LIMIT %q: want requests per second per client address, 0 to disable", v)
		}
		l.AnonRatePerSecond = f
	}
	if v := getenv("TICKETD_ANON_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return l, fmt.Errorf("TICKETD_ANON_RATE_BURST %q: want a positive integer", v)
		}
		l.AnonRateBurst = n
	}
	if v := getenv("TICKETD_TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				l.TrustedProxies = append(l.TrustedProxies, p)
			}
		}
	}
	return l, nil
}

// newHTTPServer serves h with the limits' timeouts.
func newHTTPServer(h http.Handler, l limits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
	}
}
