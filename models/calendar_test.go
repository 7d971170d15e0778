package models

import (
	"encoding/json"
	"errors"
	"maps"
	"math/rand"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo
)

// weekdays returns open–close on each of days.
func weekdays(open, closing string, days ...string) []OpenHours {
	hours := make([]OpenHours, 0, len(days))
	for _, d := range days {
		hours = append(hours, OpenHours{Day: d, Open: open, Close: closing})
	}
	return hours
}

var (
	monFri   = []string{"mon", "tue", "wed", "thu", "fri"}
	everyDay = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// berlinOffice is Mon–Fri 09:00–17:00 in Berlin.
func berlinOffice() *Calendar {
	return &Calendar{TimeZone: "Europe/Berlin", Hours: weekdays("09:00", "17:00", monFri...)}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is a wall time in loc.
func at(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func TestCalendarNil(t *testing.T) {
	var c *Calendar
	from := time.Date(2026, 3, 7, 12, 0, 0, 500, time.FixedZone("x", 3600))

	if err := c.Validate("calendar"); err != nil {
		t.Errorf("Validate = %v, want nil", err)
	}
	got, err := c.BusinessSeconds(from, from.Add(90*time.Minute+999*time.Millisecond))
	if err != nil || got != 5400 {
		t.Errorf("BusinessSeconds = %d, %v; want 5400", got, err)
	}
	if got, _ := c.BusinessSeconds(from, from.Add(-time.Hour)); got != 0 {
		t.Errorf("BusinessSeconds backwards = %d, want 0", got)
	}
	due, err := c.AddBusiness(from, 3600)
	if err != nil || !due.Equal(from.Add(time.Hour)) || due.Location() != time.UTC {
		t.Errorf("AddBusiness = %v, %v; want %v in UTC", due, err, from.Add(time.Hour))
	}
	if open, err := c.IsOpen(from); !open || err != nil {
		t.Errorf("IsOpen = %v, %v; want true", open, err)
	}
	if _, err := c.AddBusiness(from, -1); err == nil {
		t.Error("AddBusiness with negative seconds: want an error")
	}
}

func TestCalendarAddBusiness(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	withHoliday := berlinOffice()
	withHoliday.Holidays = []string{"2026-12-25"}
	lunch := &Calendar{
		TimeZone: "Europe/Berlin",
		Hours:    append(weekdays("09:00", "12:00", monFri...), weekdays("13:00", "17:00", monFri...)...),
	}
	// 2026-03-06 is a Friday; Berlin is on CET until 2026-03-29.
	tests := []struct {
		name string
		cal  *Calendar
		from time.Time
		secs int64
		want time.Time
	}{
		{"friday evening 8h due monday 17:00", berlinOffice(), at(berlin, 2026, 3, 6, 18, 0), 8 * 3600, at(berlin, 2026, 3, 9, 17, 0)},
		{"friday 16:00 plus 2h is monday 10:00", berlinOffice(), at(berlin, 2026, 3, 6, 16, 0), 2 * 3600, at(berlin, 2026, 3, 9, 10, 0)},
		{"within one day", berlinOffice(), at(berlin, 2026, 3, 4, 10, 0), 3 * 3600, at(berlin, 2026, 3, 4, 13, 0)},
		{"ends exactly at close", berlinOffice(), at(berlin, 2026, 3, 4, 9, 0), 8 * 3600, at(berlin, 2026, 3, 4, 17, 0)},
		{"before opening starts at opening", berlinOffice(), at(berlin, 2026, 3, 4, 6, 30), 60, at(berlin, 2026, 3, 4, 9, 1)},
		{"sub-second part kept while open", berlinOffice(), at(berlin, 2026, 3, 4, 9, 0).Add(500 * time.Millisecond), 1, at(berlin, 2026, 3, 4, 9, 0).Add(1500 * time.Millisecond)},
		{"sub-second part dropped across a closed spell", berlinOffice(), at(berlin, 2026, 3, 7, 10, 0).Add(700 * time.Millisecond), 1, at(berlin, 2026, 3, 9, 9, 0).Add(time.Second)},
		{"zero seconds while closed is from itself", berlinOffice(), at(berlin, 2026, 3, 7, 10, 0).Add(700 * time.Millisecond), 0, at(berlin, 2026, 3, 7, 10, 0).Add(700 * time.Millisecond)},
		{"holiday friday skipped", withHoliday, at(berlin, 2026, 12, 24, 16, 0), 2 * 3600, at(berlin, 2026, 12, 28, 10, 0)},
		{"lunch break skipped", lunch, at(berlin, 2026, 3, 4, 11, 0), 2 * 3600, at(berlin, 2026, 3, 4, 14, 0)},
		{"lunch break from inside the break", lunch, at(berlin, 2026, 3, 4, 12, 30), 30 * 60, at(berlin, 2026, 3, 4, 13, 30)},
		// 4 weeks of 40h end Friday 2026-03-27 17:00; the last 8h fall on
		// Monday 03-30, after the switch to CEST.
		{"168h over 40h weeks across DST", berlinOffice(), at(berlin, 2026, 3, 2, 9, 0), 168 * 3600, at(berlin, 2026, 3, 30, 17, 0)},
		{"only open in a skipped hour: next week", &Calendar{TimeZone: "Europe/Berlin", Hours: weekdays("02:00", "03:00", "sun")}, at(berlin, 2026, 3, 29, 0, 0), 3600, at(berlin, 2026, 4, 5, 3, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cal.AddBusiness(tt.from, tt.secs)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("AddBusiness(%v, %d) = %v, want %v", tt.from, tt.secs, got, tt.want.UTC())
			}
			if got.Location() != time.UTC {
				t.Errorf("result in %v, want UTC", got.Location())
			}
			if back, err := tt.cal.BusinessSeconds(tt.from, got); err != nil || back != tt.secs {
				t.Errorf("BusinessSeconds back = %d, %v; want %d", back, err, tt.secs)
			}
		})
	}
}

func TestCalendarBusinessSeconds(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	newYork := mustZone(t, "America/New_York")
	santiago := mustZone(t, "America/Santiago")
	withHoliday := berlinOffice()
	withHoliday.Holidays = []string{"2026-12-25"}
	lunch := &Calendar{
		TimeZone: "Europe/Berlin",
		Hours:    append(weekdays("13:00", "17:00", monFri...), weekdays("09:00", "12:00", monFri...)...),
	}
	allDay := func(zone string) *Calendar {
		return &Calendar{TimeZone: zone, Hours: weekdays("00:00", "24:00", everyDay...)}
	}
	sundays := func(open, closing string) *Calendar {
		return &Calendar{TimeZone: "Europe/Berlin", Hours: weekdays(open, closing, "sun")}
	}
	const h = 3600
	tests := []struct {
		name     string
		cal      *Calendar
		from, to time.Time
		want     int64
	}{
		{"saturday after friday 18:00 is not breached", berlinOffice(), at(berlin, 2026, 3, 6, 18, 0), at(berlin, 2026, 3, 7, 23, 59), 0},
		{"weekend counts nothing", berlinOffice(), at(berlin, 2026, 3, 6, 17, 0), at(berlin, 2026, 3, 9, 9, 0), 0},
		{"one full week", berlinOffice(), at(berlin, 2026, 3, 2, 0, 0), at(berlin, 2026, 3, 9, 0, 0), 40 * h},
		{"partial seconds truncated", berlinOffice(), at(berlin, 2026, 3, 4, 9, 0), at(berlin, 2026, 3, 4, 9, 0).Add(2999 * time.Millisecond), 2},
		{"to before from", berlinOffice(), at(berlin, 2026, 3, 4, 12, 0), at(berlin, 2026, 3, 4, 10, 0), 0},
		{"holiday closed all day", withHoliday, at(berlin, 2026, 12, 25, 0, 0), at(berlin, 2026, 12, 26, 0, 0), 0},
		{"holiday week", withHoliday, at(berlin, 2026, 12, 21, 0, 0), at(berlin, 2026, 12, 28, 0, 0), 32 * h},
		{"lunch break day", lunch, at(berlin, 2026, 3, 4, 0, 0), at(berlin, 2026, 3, 5, 0, 0), 7 * h},
		{"lunch break partial", lunch, at(berlin, 2026, 3, 4, 11, 30), at(berlin, 2026, 3, 4, 13, 15), 45 * 60},
		{"berlin spring forward 00:00-24:00", allDay("Europe/Berlin"), at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 23 * h},
		{"berlin fall back 00:00-24:00", allDay("Europe/Berlin"), at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 25 * h},
		{"new york spring forward 00:00-24:00", allDay("America/New_York"), at(newYork, 2026, 3, 8, 0, 0), at(newYork, 2026, 3, 9, 0, 0), 23 * h},
		{"new york fall back 00:00-24:00", allDay("America/New_York"), at(newYork, 2026, 11, 1, 0, 0), at(newYork, 2026, 11, 2, 0, 0), 25 * h},
		// Santiago changes clocks at midnight: 2026-04-04 24:00 becomes
		// 23:00 again, and 2026-09-06 00:00 does not exist (the day starts
		// at 01:00, 04:00 UTC).
		{"santiago fall back at midnight", allDay("America/Santiago"), time.Date(2026, 4, 4, 3, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 4, 0, 0, 0, time.UTC), 25 * h},
		{"santiago spring forward at midnight", allDay("America/Santiago"), time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), at(santiago, 2026, 9, 7, 0, 0), 23 * h},
		{"santiago repeated last hour counts twice", &Calendar{TimeZone: "America/Santiago", Hours: weekdays("23:00", "24:00", "sat")}, at(santiago, 2026, 4, 3, 0, 0), at(santiago, 2026, 4, 6, 0, 0), 2 * h},
		{"office hours on a DST sunday", sundays("09:00", "17:00"), at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 8 * h},
		{"skipped hour counts nothing", sundays("02:00", "03:00"), at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 0},
		{"interval starting in the skipped hour", sundays("02:30", "04:00"), at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 1 * h},
		{"repeated hour counts twice", sundays("02:00", "03:00"), at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 2 * h},
		{"closing in the repeated hour closes at its first occurrence", sundays("01:00", "02:30"), at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 90 * 60},
		{"ten years of office hours", berlinOffice(), at(berlin, 2026, 1, 1, 0, 0), at(berlin, 2026, 12, 31, 0, 0).AddDate(9, 0, 0), 0}, // want filled below
	}
	// 2026-01-01..2035-12-31 minus one day: count weekdays in the loop
	// independently.
	for d := at(berlin, 2026, 1, 1, 0, 0); d.Before(at(berlin, 2035, 12, 31, 0, 0)); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			tests[len(tests)-1].want += 8 * h
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cal.BusinessSeconds(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("BusinessSeconds(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestCalendarIsOpen(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	santiago := mustZone(t, "America/Santiago")
	office := berlinOffice()
	office.Hours = append(weekdays("09:00", "12:00", monFri...), weekdays("13:00", "17:00", monFri...)...)
	office.Holidays = []string{"2026-12-25"}
	fallBack := &Calendar{TimeZone: "Europe/Berlin", Hours: weekdays("01:00", "02:30", "sun")}
	lastHour := &Calendar{TimeZone: "America/Santiago", Hours: weekdays("23:00", "24:00", "sat")}
	tests := []struct {
		name string
		cal  *Calendar
		at   time.Time
		want bool
	}{
		{"at opening", office, at(berlin, 2026, 3, 4, 9, 0), true},
		{"just before opening", office, at(berlin, 2026, 3, 4, 9, 0).Add(-time.Nanosecond), false},
		{"just before closing", office, at(berlin, 2026, 3, 4, 17, 0).Add(-time.Nanosecond), true},
		{"at closing", office, at(berlin, 2026, 3, 4, 17, 0), false},
		{"lunch", office, at(berlin, 2026, 3, 4, 12, 30), false},
		{"saturday", office, at(berlin, 2026, 3, 7, 10, 0), false},
		{"holiday", office, at(berlin, 2026, 12, 25, 10, 0), false},
		{"day after holiday", office, at(berlin, 2026, 12, 28, 10, 0), true},
		{"given in another zone", office, time.Date(2026, 3, 4, 8, 30, 0, 0, time.UTC), true},
		{"first 02:15 on fall-back day", fallBack, time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC), true},
		{"second 02:15 on fall-back day", fallBack, time.Date(2026, 10, 25, 1, 15, 0, 0, time.UTC), false},
		{"santiago repeated 23:30, first", lastHour, time.Date(2026, 4, 5, 2, 30, 0, 0, time.UTC), true},
		{"santiago repeated 23:30, second", lastHour, time.Date(2026, 4, 5, 3, 30, 0, 0, time.UTC), true},
		{"santiago next midnight", lastHour, at(santiago, 2026, 4, 5, 0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cal.IsOpen(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("IsOpen(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestCalendarValidate(t *testing.T) {
	valid := func(edit func(c *Calendar)) *Calendar {
		c := berlinOffice()
		c.Holidays = []string{"2026-12-25"}
		edit(c)
		return c
	}
	tests := []struct {
		name   string
		cal    *Calendar
		prefix string
		fields []string // nil: valid
	}{
		{"nil is around the clock", nil, "calendar", nil},
		{"office hours", valid(func(*Calendar) {}), "calendar", nil},
		{"24:00 close and touching intervals", valid(func(c *Calendar) {
			c.Hours = []OpenHours{{"sat", "12:00", "24:00"}, {"sat", "00:00", "12:00"}}
		}), "calendar", nil},
		{"UTC", valid(func(c *Calendar) { c.TimeZone = "UTC" }), "calendar", nil},
		{"no prefix", valid(func(c *Calendar) { c.TimeZone = "" }), "", []string{"time_zone"}},
		{"missing zone", valid(func(c *Calendar) { c.TimeZone = "" }), "calendar", []string{"calendar.time_zone"}},
		{"unknown zone", valid(func(c *Calendar) { c.TimeZone = "Mars/Olympus_Mons" }), "calendar", []string{"calendar.time_zone"}},
		{"host zone", valid(func(c *Calendar) { c.TimeZone = "Local" }), "calendar", []string{"calendar.time_zone"}},
		{"no open hours", valid(func(c *Calendar) { c.Hours = nil }), "calendar", []string{"calendar.hours"}},
		{"bad day", valid(func(c *Calendar) { c.Hours[2].Day = "Wednesday" }), "calendar", []string{"calendar.hours[2].day"}},
		{"bad open", valid(func(c *Calendar) { c.Hours[2].Open = "9:00" }), "calendar", []string{"calendar.hours[2].open"}},
		{"open 24:00", valid(func(c *Calendar) { c.Hours[0].Open = "24:00" }), "calendar", []string{"calendar.hours[0].open"}},
		{"bad minutes", valid(func(c *Calendar) { c.Hours[1].Close = "16:60" }), "calendar", []string{"calendar.hours[1].close"}},
		{"bad close", valid(func(c *Calendar) { c.Hours[1].Close = "24:01" }), "calendar", []string{"calendar.hours[1].close"}},
		{"close before open", valid(func(c *Calendar) { c.Hours[3].Close = "08:00" }), "calendar", []string{"calendar.hours[3].close"}},
		{"close equals open", valid(func(c *Calendar) { c.Hours[3].Close = "09:00" }), "calendar", []string{"calendar.hours[3].close"}},
		{"crossing midnight", valid(func(c *Calendar) { c.Hours[4] = OpenHours{"fri", "22:00", "02:00"} }), "calendar", []string{"calendar.hours[4].close"}},
		{"overlap", valid(func(c *Calendar) {
			c.Hours = append(c.Hours, OpenHours{"mon", "16:00", "18:00"})
		}), "calendar", []string{"calendar.hours[5]"}},
		{"overlaps inside a long interval", valid(func(c *Calendar) {
			c.Hours = []OpenHours{{"tue", "10:00", "11:00"}, {"tue", "08:00", "18:00"}, {"tue", "12:00", "13:00"}}
		}), "calendar", []string{"calendar.hours[0]", "calendar.hours[2]"}},
		{"bad holidays", valid(func(c *Calendar) {
			c.Holidays = []string{"2026-02-30", "2026-12-25", "25.12.2026", ""}
		}), "calendar", []string{"calendar.holidays[0]", "calendar.holidays[2]", "calendar.holidays[3]"}},
		{"everything at once", &Calendar{
			TimeZone: "Nowhere",
			Hours:    []OpenHours{{"funday", "x", "17:00"}, {"mon", "10:00", "09:00"}},
			Holidays: []string{"tomorrow"},
		}, "policy.calendar", []string{
			"policy.calendar.time_zone", "policy.calendar.hours[0].day", "policy.calendar.hours[0].open",
			"policy.calendar.hours[1].close", "policy.calendar.holidays[0]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cal.Validate(tt.prefix)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.fields))
			if !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q (%v)", got, want, err)
			}
		})
	}
}

// TestCalendarInvalidIsReported checks that the clock methods refuse an
// invalid calendar instead of guessing.
func TestCalendarInvalidIsReported(t *testing.T) {
	c := &Calendar{TimeZone: "Europe/Berlin"}
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	_, err1 := c.BusinessSeconds(now, now.Add(time.Hour))
	_, err2 := c.AddBusiness(now, 60)
	_, err3 := c.IsOpen(now)
	for i, err := range []error{err1, err2, err3} {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("method %d: err = %v, want a *ValidationError", i, err)
		}
	}
}

func TestCalendarScanBound(t *testing.T) {
	c := berlinOffice()
	from := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	if _, err := c.AddBusiness(from, 1_000_000_000); err == nil {
		t.Error("AddBusiness of ~31 years of business time: want an error")
	}
	if _, err := c.AddBusiness(from, 1<<62); err == nil {
		t.Error("AddBusiness of an overflowing duration: want an error")
	}
	if _, err := c.BusinessSeconds(from, from.AddDate(20, 0, 0)); err == nil {
		t.Error("BusinessSeconds over 20 years: want an error")
	}
}

// propertyCalendars are calendars with lunch breaks, holidays, DST changes
// (at 02:00 and at midnight) and intervals in skipped or repeated hours.
func propertyCalendars() map[string]*Calendar {
	return map[string]*Calendar{
		"berlin lunch holidays": {
			TimeZone: "Europe/Berlin",
			Hours:    append(weekdays("09:00", "12:00", monFri...), weekdays("13:00", "17:30", monFri...)...),
			Holidays: []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-12-24", "2026-12-25", "2027-01-01"},
		},
		"new york long days": {
			TimeZone: "America/New_York",
			Hours:    append(weekdays("07:15", "19:45", monFri...), OpenHours{"sat", "10:00", "14:00"}),
		},
		"santiago around midnight": {
			TimeZone: "America/Santiago",
			Hours:    append(weekdays("00:00", "02:00", everyDay...), weekdays("22:00", "24:00", everyDay...)...),
		},
		"berlin dst hours": {
			TimeZone: "Europe/Berlin",
			Hours: []OpenHours{
				{"sun", "01:00", "02:30"}, {"sun", "02:45", "03:15"}, {"sun", "23:00", "24:00"},
				{"mon", "00:00", "00:30"}, {"wed", "09:00", "17:00"},
			},
		},
	}
}

func TestCalendarAddBusinessInvertsBusinessSeconds(t *testing.T) {
	rng := rand.New(rand.NewSource(20260325))
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	cals := propertyCalendars()
	for _, name := range slices.Sorted(maps.Keys(cals)) {
		c := cals[name]
		t.Run(name, func(t *testing.T) {
			for i := 0; i < 250; i++ {
				from := start.Add(time.Duration(rng.Int63n(int64(420 * 24 * time.Hour))))
				var secs int64
				switch i % 4 {
				case 0:
					secs = rng.Int63n(120)
				case 1:
					secs = rng.Int63n(8 * 3600)
				default:
					secs = rng.Int63n(200 * 3600)
				}
				due, err := c.AddBusiness(from, secs)
				if err != nil {
					t.Fatalf("AddBusiness(%v, %d): %v", from, secs, err)
				}
				if due.Before(from) {
					t.Fatalf("AddBusiness(%v, %d) = %v, before from", from, secs, due)
				}
				back, err := c.BusinessSeconds(from, due)
				if err != nil || back != secs {
					t.Fatalf("BusinessSeconds(%v, AddBusiness(.., %d) = %v) = %d, %v", from, secs, due, back, err)
				}
				if secs == 0 {
					continue
				}
				// Earliest: the nanosecond before due is open and still
				// short of the target.
				justBefore := due.Add(-time.Nanosecond)
				if b, _ := c.BusinessSeconds(from, justBefore); b != secs-1 {
					t.Fatalf("BusinessSeconds(%v, %v) = %d, want %d", from, justBefore, b, secs-1)
				}
				if open, _ := c.IsOpen(justBefore); !open {
					t.Fatalf("IsOpen(%v) = false just before due %v", justBefore, due)
				}
			}
		})
	}
}

// TestCalendarMatchesWallClockScan compares BusinessSeconds with a scan that
// reads the local wall clock every minute, for calendars whose intervals
// avoid the repeated and skipped hours (where the two readings differ by
// design: an interval closes the first time the clock reads its close).
func TestCalendarMatchesWallClockScan(t *testing.T) {
	cals := map[string]*Calendar{
		"berlin": propertyCalendars()["berlin lunch holidays"],
		"new york": {
			TimeZone: "America/New_York",
			Hours:    append(weekdays("07:15", "19:45", monFri...), weekdays("00:00", "24:00", "sun")...),
			Holidays: []string{"2026-11-26"},
		},
		"santiago": propertyCalendars()["santiago around midnight"],
	}
	rng := rand.New(rand.NewSource(7))
	for _, name := range []string{"berlin", "new york", "santiago"} {
		c := cals[name]
		loc := mustZone(t, c.TimeZone)
		t.Run(name, func(t *testing.T) {
			for i := 0; i < 20; i++ {
				from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Intn(365*24*60)) * time.Minute)
				to := from.Add(time.Duration(rng.Intn(9*24*60)) * time.Minute)
				var want int64
				for m := from; m.Before(to); m = m.Add(time.Minute) {
					if wallOpen(c, m.In(loc)) {
						want += 60
					}
				}
				got, err := c.BusinessSeconds(from, to)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("BusinessSeconds(%v, %v) = %d, wall-clock scan says %d", from, to, got, want)
				}
			}
		})
	}
}

// wallOpen reads local's wall clock against c without any interval logic.
func wallOpen(c *Calendar, local time.Time) bool {
	var buf [16]byte
	if slices.Contains(c.Holidays, string(local.AppendFormat(buf[:0], time.DateOnly))) {
		return false
	}
	day := [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[local.Weekday()]
	clock := string(local.AppendFormat(buf[:0], "15:04"))
	for _, h := range c.Hours {
		// "HH:MM" strings order like the times; every reading is below "24:00".
		if h.Day == day && h.Open <= clock && clock < h.Close {
			return true
		}
	}
	return false
}

func TestCalendarJSON(t *testing.T) {
	const body = `{"time_zone": "Europe/Berlin",
		"hours": [{"day": "mon", "open": "09:00", "close": "17:00"}, {"day": "sat", "open": "10:00", "close": "24:00"}],
		"holidays": ["2026-12-25"]}`
	var c Calendar
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate("calendar"); err != nil {
		t.Fatal(err)
	}
	want := Calendar{
		TimeZone: "Europe/Berlin",
		Hours:    []OpenHours{{"mon", "09:00", "17:00"}, {"sat", "10:00", "24:00"}},
		Holidays: []string{"2026-12-25"},
	}
	if c.TimeZone != want.TimeZone || !slices.Equal(c.Hours, want.Hours) || !slices.Equal(c.Holidays, want.Holidays) {
		t.Errorf("decoded %+v, want %+v", c, want)
	}
}

func BenchmarkCalendarAddBusiness(b *testing.B) {
	c := berlinOffice()
	from := time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := c.AddBusiness(from, 168*3600); err != nil {
			b.Fatal(err)
		}
	}
}
