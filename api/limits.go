package api

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Defaults for the limits every request passes before a handler runs.
const (
	// DefaultMaxBodyBytes bounds request bodies: the longest valid one (a
	// 20000-character reply, at most 80 KB of UTF-8) is far below it.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultAnonRatePerSecond and DefaultAnonRateBurst shape the bucket of
	// each client address for requests that carry no valid token: sign-in
	// attempts, token guessing, health probes and scrapes. Probes and
	// scrapes stay far below it.
	DefaultAnonRatePerSecond = 5
	DefaultAnonRateBurst     = 30
	// maxAnonAddresses bounds the per-address limiter's memory: past it, a
	// new address evicts an arbitrary one (whose bucket then starts full
	// again, which errs on the side of serving).
	maxAnonAddresses = 100_000
)

// tooLarge is a request body over the configured limit (HTTP 413).
type tooLarge struct{ limit int64 }

func (e *tooLarge) Error() string {
	return fmt.Sprintf("request body is larger than %d bytes", e.limit)
}

// guard is the first line against hostile input and clients: it sets the
// headers every response carries, refuses malformed query strings and
// oversized bodies, and bounds the body every handler may read.
func (s *Server) guard(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if noStore(c.Request.URL.Path) {
		h.Set("Cache-Control", "no-store")
	}
	// A query string that does not parse would otherwise be dropped in
	// part (url.Values skips bad pairs) and the request served as if the
	// client had not sent them.
	if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		s.fail(c, badRequestf("the query string is malformed: %s", queryError(err)))
		c.Abort()
		return
	}
	limit := s.cfg.MaxBodyBytes
	if c.Request.ContentLength > limit {
		// Close rather than drain an upload we will not read.
		c.Header("Connection", "close")
		s.fail(c, &tooLarge{limit: limit})
		c.Abort()
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	// A request without credentials is charged to its address here; one
	// whose token fails is charged in requireAuth.
	if c.GetHeader("Authorization") == "" && !s.allowAnonymous(c) {
		c.Abort()
		return
	}
	c.Next()
}

// noStore reports whether responses for path must not be cached: all of
// the API's, which are per-caller and change with every write.
func noStore(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/openapi.yaml":
		return true
	}
	return strings.HasPrefix(path, "/api/")
}

// queryError names what is wrong without echoing the whole query back.
func queryError(err error) string {
	msg := err.Error()
	if e, ok := err.(url.EscapeError); ok {
		msg = "invalid percent-encoding " + fmt.Sprintf("%q", string(e))
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// allowAnonymous charges one request to the client's address and, when
// its bucket is empty, answers 429 and returns false.
func (s *Server) allowAnonymous(c *gin.Context) bool {
	ok, wait := s.anon.allow(clientKey(c.ClientIP()), time.Now())
	if !ok {
		s.fail(c, &rateLimited{retryAfter: max(wait, 1)})
	}
	return ok
}

// clientKey is the bucket of an address: IPv6 clients are grouped by /64,
// the smallest block a host usually gets, so one host cannot mint a bucket
// per address.
func clientKey(ip string) string {
	addr := net.ParseIP(ip)
	if addr == nil {
		return ip
	}
	if v4 := addr.To4(); v4 != nil {
		return v4.String()
	}
	return addr.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// unstorable says why text cannot be stored or searched as given, or "":
// PostgreSQL text holds neither NUL characters nor invalid UTF-8, and
// would answer such a parameter with an error (a 500) instead of a 422.
func unstorable(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "must not contain NUL characters"
	}
	return ""
}
