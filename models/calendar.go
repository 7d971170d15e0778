package models

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// maxCalendarDays bounds every day-by-day scan of a calendar (about ten
// years), so a calendar that can never supply the requested time fails
// instead of looping inside a workflow task.
const maxCalendarDays = 3660

// minutesPerDay is the close value of an interval that runs to midnight
// ("24:00").
const minutesPerDay = 24 * 60

// Calendar is an SLA policy's business hours. A nil *Calendar means around
// the clock.
//
// Opening hours are wall-clock times in TimeZone on each calendar date. An
// interval runs from the first instant the local clock reads Open to the
// first instant it reads Close (or the next date begins, for "24:00"), so a
// day that contains a DST change counts the real elapsed time between those
// readings: 00:00–24:00 lasts 23 hours on a spring-forward day and 25 on a
// fall-back day, and a wall time the clock skips counts from the moment of
// the jump.
//
// The methods are pure (the only I/O is time.LoadLocation) and parse the
// calendar on every call, so they are deterministic for workflow code and
// safe for concurrent use. Their results are in UTC.
type Calendar struct {
	TimeZone string      `json:"time_zone"` // IANA name, e.g. "Europe/Berlin"
	Hours    []OpenHours `json:"hours"`     // weekly opening hours; several intervals per day allowed
	Holidays []string    `json:"holidays"`  // "2026-12-25" dates in TimeZone: closed all day
}

// OpenHours is one weekly opening interval. Intervals cannot cross midnight:
// 22:00–02:00 is written as 22:00–24:00 on one day and 00:00–02:00 on the
// next.
type OpenHours struct {
	Day   string `json:"day"`   // mon tue wed thu fri sat sun
	Open  string `json:"open"`  // "09:00" (HH:MM, 00:00–23:59)
	Close string `json:"close"` // "17:00", after Open; "24:00" allowed meaning end of day
}

// Validate returns a *ValidationError naming every bad field with prefix
// (e.g. "calendar.hours[2].open"), or nil. A nil calendar is valid.
func (c *Calendar) Validate(prefix string) error {
	if c == nil {
		return nil
	}
	if _, err := c.compile(prefix); err != nil {
		return err
	}
	return nil
}

// BusinessSeconds is how many whole open seconds lie in [from, to); 0 if to
// is not after from. With a nil calendar every second is open.
func (c *Calendar) BusinessSeconds(from, to time.Time) (int64, error) {
	from, to = from.Round(0), to.Round(0)
	if !to.After(from) {
		return 0, nil
	}
	if c == nil {
		return int64(to.Sub(from) / time.Second), nil
	}
	s, err := c.compile("calendar")
	if err != nil {
		return 0, err
	}
	var open time.Duration
	var buf []span
	d := dateOf(from, s.loc).prev()
	for n := 0; s.instant(d, 0).Before(to); n++ {
		if n > maxCalendarDays {
			return 0, fmt.Errorf("business seconds from %s to %s: range exceeds %d days",
				from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), maxCalendarDays)
		}
		buf = s.spans(d, buf)
		for _, sp := range buf {
			a, b := later(sp.start, from), earlier(sp.end, to)
			if b.After(a) {
				open += b.Sub(a)
			}
		}
		d = d.next()
	}
	return int64(open / time.Second), nil
}

// AddBusiness is the earliest instant t >= from such that
// BusinessSeconds(from, t) == secs. For secs == 0 it is from itself, even
// when the calendar is closed then; otherwise it is the moment the secs-th
// open second ends, which keeps from's sub-second part while both lie in
// one open interval. With a nil calendar it is from + secs.
func (c *Calendar) AddBusiness(from time.Time, secs int64) (time.Time, error) {
	from = from.Round(0)
	if secs < 0 {
		return time.Time{}, fmt.Errorf("add business time: negative duration %ds", secs)
	}
	if secs > math.MaxInt64/int64(time.Second) {
		return time.Time{}, fmt.Errorf("add business time: duration %ds too large", secs)
	}
	if c == nil {
		return from.Add(time.Duration(secs) * time.Second).UTC(), nil
	}
	s, err := c.compile("calendar")
	if err != nil {
		return time.Time{}, err
	}
	if secs == 0 {
		return from.UTC(), nil
	}
	remaining := time.Duration(secs) * time.Second
	var buf []span
	d := dateOf(from, s.loc).prev()
	for n := 0; n <= maxCalendarDays; n++ {
		buf = s.spans(d, buf)
		for _, sp := range buf {
			a := later(sp.start, from)
			if !sp.end.After(a) {
				continue
			}
			if avail := sp.end.Sub(a); remaining > avail {
				remaining -= avail
				continue
			}
			return a.Add(remaining).UTC(), nil
		}
		d = d.next()
	}
	return time.Time{}, fmt.Errorf("add business time: %ds after %s not reached within %d days",
		secs, from.UTC().Format(time.RFC3339), maxCalendarDays)
}

// IsOpen reports whether the instant lies within open hours. A nil calendar
// is always open.
func (c *Calendar) IsOpen(t time.Time) (bool, error) {
	if c == nil {
		return true, nil
	}
	s, err := c.compile("calendar")
	if err != nil {
		return false, err
	}
	t = t.Round(0)
	// Around a DST change at midnight an instant's local date can differ
	// from the date whose interval holds it, so look at the neighbours too.
	var buf []span
	d := dateOf(t, s.loc).prev()
	for range 3 {
		buf = s.spans(d, buf)
		for _, sp := range buf {
			if !t.Before(sp.start) && t.Before(sp.end) {
				return true, nil
			}
		}
		d = d.next()
	}
	return false, nil
}

// schedule is a parsed, valid Calendar.
type schedule struct {
	loc      *time.Location
	week     [7][]clockRange // by time.Weekday, sorted by open, disjoint
	holidays map[civilDate]bool
}

// clockRange is an opening interval in minutes after local midnight; close
// may be minutesPerDay.
type clockRange struct {
	open, close int
}

// span is an opening interval on one date as instants, [start, end).
type span struct {
	start, end time.Time
}

// civilDate is a date without a zone.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time, loc *time.Location) civilDate {
	y, m, d := t.In(loc).Date()
	return civilDate{y, m, d}
}

func (d civilDate) add(days int) civilDate {
	y, m, dd := time.Date(d.year, d.month, d.day+days, 0, 0, 0, 0, time.UTC).Date()
	return civilDate{y, m, dd}
}

func (d civilDate) next() civilDate { return d.add(1) }
func (d civilDate) prev() civilDate { return d.add(-1) }

func (d civilDate) weekday() time.Weekday {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Weekday()
}

// compile validates c and parses it; problems are reported under prefix.
func (c *Calendar) compile(prefix string) (*schedule, error) {
	v := &ValidationError{}
	s := &schedule{holidays: make(map[civilDate]bool, len(c.Holidays))}

	switch c.TimeZone {
	case "":
		v.Add(fieldName(prefix, "time_zone"), "is required (an IANA name such as Europe/Berlin)")
	case "Local":
		// The host's zone would make results depend on the machine.
		v.Add(fieldName(prefix, "time_zone"), "must be an IANA name such as Europe/Berlin, not Local")
	default:
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			v.Add(fieldName(prefix, "time_zone"), "unknown time zone %q", c.TimeZone)
		}
		s.loc = loc
	}

	if len(c.Hours) == 0 {
		v.Add(fieldName(prefix, "hours"), "needs at least one opening interval")
	}
	type indexed struct {
		clockRange
		i int
	}
	var byDay [7][]indexed
	for i, h := range c.Hours {
		name := fieldName(prefix, fmt.Sprintf("hours[%d]", i))
		day, okDay := parseWeekday(h.Day)
		if !okDay {
			v.Add(name+".day", "must be one of mon, tue, wed, thu, fri, sat, sun, not %q", h.Day)
		}
		open, okOpen := parseClock(h.Open, false)
		if !okOpen {
			v.Add(name+".open", "must be a time HH:MM from 00:00 to 23:59, not %q", h.Open)
		}
		closing, okClose := parseClock(h.Close, true)
		if !okClose {
			v.Add(name+".close", "must be a time HH:MM from 00:01 to 24:00, not %q", h.Close)
		}
		if !okOpen || !okClose {
			continue
		}
		if closing <= open {
			v.Add(name+".close", "must be after open %s (split an interval that crosses midnight in two)", h.Open)
			continue
		}
		if okDay {
			byDay[day] = append(byDay[day], indexed{clockRange{open, closing}, i})
		}
	}
	for day, ranges := range byDay {
		sort.SliceStable(ranges, func(a, b int) bool { return ranges[a].open < ranges[b].open })
		last := -1 // index into ranges of the interval reaching furthest so far
		for j, r := range ranges {
			if last >= 0 && r.open < ranges[last].close {
				v.Add(fieldName(prefix, fmt.Sprintf("hours[%d]", r.i)),
					"overlaps hours[%d] on %s", ranges[last].i, dayName(time.Weekday(day)))
				continue
			}
			s.week[day] = append(s.week[day], r.clockRange)
			if last < 0 || r.close > ranges[last].close {
				last = j
			}
		}
	}

	for i, h := range c.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			v.Add(fieldName(prefix, fmt.Sprintf("holidays[%d]", i)), "must be a date YYYY-MM-DD, not %q", h)
			continue
		}
		s.holidays[civilDate{d.Year(), d.Month(), d.Day()}] = true
	}

	if err := v.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// spans returns the opening intervals of date d as instants, in order and
// disjoint, reusing buf.
func (s *schedule) spans(d civilDate, buf []span) []span {
	buf = buf[:0]
	if s.holidays[d] {
		return buf
	}
	var prevEnd time.Time
	for _, r := range s.week[d.weekday()] {
		start, end := s.instant(d, r.open), s.instant(d, r.close)
		start = later(start, prevEnd)
		if !end.After(start) {
			continue // the clock skipped the whole interval
		}
		buf = append(buf, span{start, end})
		prevEnd = end
	}
	return buf
}

// instant is the first instant at which the local clock reads minute of date
// d or later (minute may be minutesPerDay: the next date's midnight). Unlike
// a bare time.Date this is monotonic in the wall time: a skipped wall time
// maps to the moment of the jump, and a repeated one to its first
// occurrence.
func (s *schedule) instant(d civilDate, minute int) time.Time {
	want := time.Date(d.year, d.month, d.day, 0, minute, 0, 0, time.UTC)
	t := time.Date(d.year, d.month, d.day, 0, minute, 0, 0, s.loc)
	switch got := wallClock(t); got.Compare(want) {
	case 1: // skipped; time.Date moved forward into the zone after the jump
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			return start
		}
		return t
	case -1: // skipped; time.Date moved back into the zone before the jump
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
		return t
	}
	// The reading may occur twice when the clock was set back; prefer the
	// occurrence in the previous zone.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, prevOffset := start.Add(-time.Second).Zone()
	_, offset := t.Zone()
	if prevOffset <= offset {
		return t
	}
	if first := t.Add(-time.Duration(prevOffset-offset) * time.Second); first.Before(start) && wallClock(first).Equal(want) {
		return first
	}
	return t
}

// wallClock is t's local reading as a UTC time, for comparing readings.
func wallClock(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	return time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), time.UTC)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

// parseClock parses "HH:MM" into minutes after midnight; "24:00" is accepted
// only when endOfDay is set.
func parseClock(s string, endOfDay bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	digits := [4]byte{s[0], s[1], s[3], s[4]}
	for _, b := range digits {
		if b < '0' || b > '9' {
			return 0, false
		}
	}
	hh := int(digits[0]-'0')*10 + int(digits[1]-'0')
	mm := int(digits[2]-'0')*10 + int(digits[3]-'0')
	if endOfDay && hh == 24 && mm == 0 {
		return minutesPerDay, true
	}
	if hh > 23 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if dayName(d) == s {
			return d, true
		}
	}
	return 0, false
}

// dayName is the API's name of a weekday: mon, tue, …
func dayName(d time.Weekday) string {
	switch d {
	case time.Sunday:
		return "sun"
	case time.Monday:
		return "mon"
	case time.Tuesday:
		return "tue"
	case time.Wednesday:
		return "wed"
	case time.Thursday:
		return "thu"
	case time.Friday:
		return "fri"
	default:
		return "sat"
	}
}

func fieldName(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
