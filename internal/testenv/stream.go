package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

var registerSSE sync.Once

// Event is one Server-Sent Event, or a comment line (Comment set).
type Event struct {
	ID, Type, Data string
	Comment        string
}

// EventStream is an open Server-Sent Events response.
type EventStream struct {
	Header http.Header
	events chan Event
	done   chan struct{}
	cancel context.CancelFunc
	body   io.Closer
}

// Stream opens a Server-Sent Events stream with the token. A refusal comes
// back as a validated Response and a nil stream; an accepted stream's status
// and headers are validated against the spec, and it is closed when the test
// ends.
func (s *Stack) Stream(t testing.TB, path, token string, headers ...string) (*EventStream, *Response) {
	t.Helper()
	registerSSE.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/event-stream", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		})
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.API.URL+path, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.API.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
		if err := s.validate(req, out); err != nil {
			t.Errorf("GET %s → %d does not match openapi.yaml: %v\nbody: %s", path, out.Status, err, raw)
		}
		return nil, out
	}
	// The spec describes the stream as a string: validate the status and
	// headers with the first line as the body.
	rd := bufio.NewReader(resp.Body)
	first, err := rd.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("GET %s: read the stream's first line: %v", path, err)
	}
	if err := s.validate(req, &Response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(first)}); err != nil {
		t.Errorf("GET %s → 200 does not match openapi.yaml: %v", path, err)
	}
	es := &EventStream{Header: resp.Header, events: make(chan Event, 1024), done: make(chan struct{}), cancel: cancel, body: resp.Body}
	go es.read(rd, strings.TrimSuffix(first, "\n"))
	t.Cleanup(es.Close)
	return es, nil
}

func (es *EventStream) read(rd *bufio.Reader, first string) {
	defer close(es.done)
	defer close(es.events)
	var ev Event
	line := first
	for {
		switch {
		case line == "":
			if ev != (Event{}) {
				es.events <- ev
			}
			ev = Event{}
		case strings.HasPrefix(line, ":"):
			es.events <- Event{Comment: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Type = value
			case "data":
				if ev.Data != "" {
					ev.Data += "\n"
				}
				ev.Data += value
			}
		}
		next, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(next, "\n")
	}
}

// Next returns the next event or comment, or an error when none arrives
// within timeout or the stream ended.
func (es *EventStream) Next(timeout time.Duration) (Event, error) {
	select {
	case ev, ok := <-es.events:
		if !ok {
			return Event{}, io.EOF
		}
		return ev, nil
	case <-time.After(timeout):
		return Event{}, fmt.Errorf("no event within %s", timeout)
	}
}

// NextEvent skips comments and returns the next event.
func (es *EventStream) NextEvent(timeout time.Duration) (Event, error) {
	deadline := time.Now().Add(timeout)
	for {
		ev, err := es.Next(time.Until(deadline))
		if err != nil || ev.Comment == "" {
			return ev, err
		}
	}
}

// Ended waits up to timeout for the server to end the stream, skipping
// whatever else arrives.
func (es *EventStream) Ended(timeout time.Duration) bool {
	select {
	case <-es.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Close drops the connection.
func (es *EventStream) Close() {
	es.cancel()
	_ = es.body.Close()
}
