package models

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzCalendar feeds arbitrary calendar bodies and instants to the SLA
// calendar. Properties: a calendar is valid or a *ValidationError naming
// calendar fields; a valid one survives a JSON round trip; and on a valid
// one AddBusiness and BusinessSeconds are inverse (the documented
// definition of AddBusiness), with the last second before the result open.
func FuzzCalendar(f *testing.F) {
	for _, c := range []string{
		`{"time_zone":"Europe/Berlin","hours":[{"day":"mon","open":"09:00","close":"17:00"},{"day":"fri","open":"09:00","close":"12:00"}],"holidays":["2026-12-25"]}`,
		`{"time_zone":"America/Santiago","hours":[{"day":"sat","open":"23:00","close":"24:00"}],"holidays":[]}`,
		`{"time_zone":"Europe/Berlin","hours":[{"day":"sun","open":"02:00","close":"03:00"}]}`,
		`{"time_zone":"UTC","hours":[{"day":"mon","open":"00:00","close":"24:00"},{"day":"mon","open":"10:00","close":"11:00"}]}`,
		`{"time_zone":"../../etc/passwd","hours":[]}`, `{"time_zone":"Local","hours":[{"day":"xyz","open":"9","close":"25:00"}]}`,
		`{"time_zone":"UTC","hours":[{"day":"tue","open":"17:00","close":"09:00"}],"holidays":["2026-02-30"]}`,
	} {
		f.Add([]byte(c), int64(1795000000), int64(3600))
	}
	f.Fuzz(func(t *testing.T, body []byte, fromUnix, secs int64) {
		var cal Calendar
		if err := json.Unmarshal(body, &cal); err != nil {
			return // the API's strict decoder refuses it first (FuzzDecode)
		}
		err := cal.Validate("calendar")
		if err != nil {
			var v *ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 {
				t.Fatalf("Validate(%s): %T %v is not a ValidationError", body, err, err)
			}
			for _, fe := range v.Fields {
				if !strings.HasPrefix(fe.Field, "calendar") {
					t.Fatalf("Validate(%s) names field %q outside the calendar", body, fe.Field)
				}
			}
			return
		}
		raw, err := json.Marshal(cal)
		if err != nil {
			t.Fatal(err)
		}
		var back Calendar
		if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, cal) {
			t.Fatalf("calendar %+v round-tripped to %+v (%v)", cal, back, err)
		}
		if err := back.Validate("calendar"); err != nil {
			t.Fatalf("valid calendar invalid after a round trip: %v", err)
		}
		// Instants within a few decades of now, durations up to 30 days.
		from := time.Unix(1_700_000_000+fromUnix%(30*365*24*3600), 0).UTC()
		secs = abs(secs) % (30 * 24 * 3600)
		due, err := cal.AddBusiness(from, secs)
		if err != nil {
			if secs == 0 {
				t.Fatalf("AddBusiness(%s, 0): %v", from, err)
			}
			return // never open within the scan bound: a workflow is told so
		}
		if due.Before(from) {
			t.Fatalf("AddBusiness(%s, %d) = %s, before the start", from, secs, due)
		}
		got, err := cal.BusinessSeconds(from, due)
		if err != nil || got != secs {
			t.Fatalf("BusinessSeconds(%s, AddBusiness(%s, %d) = %s) = %d, %v", from, from, secs, due, got, err)
		}
		if secs > 0 {
			if open, err := cal.IsOpen(due.Add(-time.Nanosecond)); err != nil || !open {
				t.Fatalf("the last second before %s (AddBusiness(%s, %d)) is not open", due, from, secs)
			}
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// FuzzPolicy feeds arbitrary SLA policy documents to Validate: it accepts
// or returns a *ValidationError, and an accepted policy survives a JSON
// round trip (it is what the API stores and answers).
func FuzzPolicy(f *testing.F) {
	f.Add([]byte(`{"priority":"high","first_response_seconds":3600,"resolution_seconds":86400,"warn_at":[0.75,0.9],"escalate":true,"calendar":null}`))
	f.Add([]byte(`{"priority":"low","first_response_seconds":0,"resolution_seconds":-1,"warn_at":[1,0,0.5,0.5,0.1,0.2],"calendar":{"time_zone":"UTC","hours":[]}}`))
	f.Add([]byte(`{"first_response_seconds":31536001,"resolution_seconds":1,"warn_at":[NaN]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Policy
		if err := json.Unmarshal(body, &p); err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			var v *ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 {
				t.Fatalf("Validate(%s): %T %v is not a ValidationError", body, err, err)
			}
			return
		}
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("valid policy %+v does not encode: %v", p, err)
		}
		var back Policy
		if err := json.Unmarshal(raw, &back); err != nil || back.Validate() != nil ||
			!reflect.DeepEqual(back.Calendar, p.Calendar) || back.FirstResponseSeconds != p.FirstResponseSeconds {
			t.Fatalf("policy %+v round-tripped to %+v (%v)", p, back, err)
		}
	})
}
