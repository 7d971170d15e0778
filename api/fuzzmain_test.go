package api_test

import (
	"flag"
	"strings"
)

// stackNeeded reports whether this test process needs the real stack:
// always, except when it fuzzes one of the decoder targets, which run
// without a database or a workflow engine (their workers then start in
// milliseconds instead of seconds).
func stackNeeded() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	fz := flag.Lookup("test.fuzz")
	if fz == nil || fz.Value.String() == "" {
		return true
	}
	return strings.Contains(fz.Value.String(), "Router")
}
