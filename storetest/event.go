package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/userevents/userevents"
)

var eventCases = []testCase{
	{"CreateEvents/stores every field", testCreateEventsRoundTrip},
	{"CreateEvents/sets increasing seq", testCreateEventsSeq},
	{"CreateEvents/sets missing received time", testCreateEventsReceivedAt},
	{"CreateEvents/skips id stored earlier", testCreateEventsDuplicateAcrossBatches},
	{"CreateEvents/skips repeated id in batch", testCreateEventsDuplicateInBatch},
	{"CreateEvents/ids are per project", testCreateEventsIDPerProject},
	{"CreateEvents/empty batch", testCreateEventsEmpty},
	{"FindEvents/newest first", testFindEventsOrder},
	{"FindEvents/paging over equal times", testFindEventsPagingTies},
	{"FindEvents/inclusive microsecond bounds", testFindEventsBounds},
	{"FindEvents/fraction spellings are equal", testFindEventsFractionSpelling},
	{"FindEvents/filters", testFindEventsFilters},
	{"FindEvents/count ignores paging", testFindEventsCount},
	{"FindEvents/limit zero returns count", testFindEventsLimitZero},
	{"FindEvents/offset past end", testFindEventsOffsetPastEnd},
	{"FindEvents/count over many hours", testFindEventsCountLongRange},
	{"FindEvents/other project hidden", testFindEventsOtherProject},
}

// newEvent returns an event with the id and time and a few fields set.
func newEvent(id string, t time.Time) *userevents.Event {
	return &userevents.Event{
		EventID:   id,
		Username:  "u-alice",
		EventType: "LOGIN",
		EventTime: t,
	}
}

func createEvents(t *testing.T, s userevents.Store, projectID string, events ...*userevents.Event) int {
	t.Helper()
	n, err := s.CreateEvents(t.Context(), projectID, events)
	requireNoError(t, err, "CreateEvents()")
	return n
}

func findEvents(t *testing.T, s userevents.Store, f userevents.EventFilter) ([]*userevents.Event, int) {
	t.Helper()
	events, total, err := s.FindEvents(t.Context(), f)
	requireNoError(t, err, "FindEvents()")
	return events, total
}

// eventIDs returns the EventID of each event, in order.
func eventIDs(events []*userevents.Event) []string {
	ids := []string{}
	for _, ev := range events {
		ids = append(ids, ev.EventID)
	}
	return ids
}

// dayFilter returns a filter over all of 2024-05-01 in projectA.
func dayFilter() userevents.EventFilter {
	return userevents.EventFilter{
		ProjectID: projectA,
		Start:     at(0, 0, 0, 0),
		End:       at(23, 59, 59, 999_999),
		Limit:     userevents.MaxEventLimit,
	}
}

func testCreateEventsRoundTrip(t *testing.T, s userevents.Store) {
	full := &userevents.Event{
		EventID:       "ev-full",
		ProjectID:     "ignored: CreateEvents sets the project",
		Username:      "u-alice",
		WorkspaceID:   "ws-1",
		EventTraceID:  "trace-1",
		EventType:     "LOGIN",
		EventTime:     at(10, 0, 0, 123_456),
		ResourceType:  "DESKTOP",
		ResourceID:    "desk-id-1",
		ResourceName:  "desk:01",
		ClientType:    "WINDOWS",
		ClientIP:      "192.0.2.10",
		ClientMAC:     "00-00-5E-00-53-01",
		ClientVersion: "2.1.0",
		SourceIP:      "198.51.100.7",
		IsSuccess:     ptr(true),
		ErrorCode:     "WKS.0001",
		ErrorMsg:      "a message with \"quotes\" and 桌面",
		ActionType:    "USER",
		Domain:        "example.local",
		APIURL:        "/v2/x/desktops",
		ReceivedAt:    at(10, 0, 1, 7),
	}
	failed := newEvent("ev-failed", at(10, 0, 1, 0))
	failed.IsSuccess = ptr(false)
	unknown := newEvent("ev-unknown", at(10, 0, 2, 0))

	n := createEvents(t, s, projectA, full, failed, unknown)
	requireEqual(t, "stored", n, 3)

	events, total := findEvents(t, s, dayFilter())
	requireEqual(t, "total", total, 3)
	requireEqual(t, "ids", eventIDs(events), []string{"ev-unknown", "ev-failed", "ev-full"})

	want := *full
	want.ProjectID = projectA
	got := *events[2]
	requireTimeEqual(t, "EventTime", got.EventTime, want.EventTime)
	requireTimeEqual(t, "ReceivedAt", got.ReceivedAt, want.ReceivedAt)
	got.EventTime, want.EventTime = time.Time{}, time.Time{}
	got.ReceivedAt, want.ReceivedAt = time.Time{}, time.Time{}
	requireEqual(t, "event", got, want)

	requireEqual(t, "IsSuccess of failed event", events[1].IsSuccess, ptr(false))
	if events[0].IsSuccess != nil {
		t.Fatalf("IsSuccess of event without it = %v, want nil", *events[0].IsSuccess)
	}
}

func testCreateEventsSeq(t *testing.T, s userevents.Store) {
	first := []*userevents.Event{newEvent("a", at(10, 0, 0, 0)), newEvent("b", at(9, 0, 0, 0))}
	second := []*userevents.Event{newEvent("c", at(8, 0, 0, 0))}
	createEvents(t, s, projectA, first...)
	createEvents(t, s, projectA, second...)

	seqs := []int64{first[0].Seq, first[1].Seq, second[0].Seq}
	if seqs[0] <= 0 || seqs[1] <= seqs[0] || seqs[2] <= seqs[1] {
		t.Fatalf("Seq of stored events = %v, want positive and increasing", seqs)
	}
	events, _ := findEvents(t, s, dayFilter())
	for _, ev := range events {
		want := map[string]int64{"a": seqs[0], "b": seqs[1], "c": seqs[2]}[ev.EventID]
		requireEqual(t, "Seq of "+ev.EventID, ev.Seq, want)
	}
}

func testCreateEventsReceivedAt(t *testing.T, s userevents.Store) {
	missing := newEvent("missing", at(10, 0, 0, 0))
	withReceivedAt := newEvent("withReceivedAt", at(10, 0, 1, 0))
	withReceivedAt.ReceivedAt = at(11, 0, 0, 42)

	before := time.Now()
	createEvents(t, s, projectA, missing, withReceivedAt)
	after := time.Now()

	events, _ := findEvents(t, s, dayFilter())
	requireEqual(t, "ids", eventIDs(events), []string{"withReceivedAt", "missing"})
	requireTimeEqual(t, "ReceivedAt set by caller", events[0].ReceivedAt, withReceivedAt.ReceivedAt)
	requireTimeBetween(t, "defaulted ReceivedAt", events[1].ReceivedAt, before, after)
}

func testCreateEventsDuplicateAcrossBatches(t *testing.T, s userevents.Store) {
	n := createEvents(t, s, projectA, newEvent("a", at(10, 0, 0, 0)), newEvent("b", at(10, 0, 1, 0)))
	requireEqual(t, "first batch stored", n, 2)

	again := newEvent("b", at(11, 0, 0, 0))
	again.Username = "u-mallory"
	fresh := newEvent("c", at(10, 0, 2, 0))
	n = createEvents(t, s, projectA, again, fresh)
	requireEqual(t, "second batch stored", n, 1)
	requireEqual(t, "Seq of skipped event", again.Seq, int64(0))
	if fresh.Seq == 0 {
		t.Fatal("Seq of stored event = 0, want it set")
	}

	events, total := findEvents(t, s, dayFilter())
	requireEqual(t, "total", total, 3)
	requireEqual(t, "ids", eventIDs(events), []string{"c", "b", "a"})
	requireEqual(t, "username of b", events[1].Username, "u-alice")
	requireTimeEqual(t, "time of b", events[1].EventTime, at(10, 0, 1, 0))
}

func testCreateEventsDuplicateInBatch(t *testing.T, s userevents.Store) {
	first := newEvent("x", at(10, 0, 0, 0))
	second := newEvent("x", at(10, 0, 1, 0))
	second.Username = "u-bob"
	other := newEvent("y", at(10, 0, 2, 0))

	n := createEvents(t, s, projectA, first, second, other)
	requireEqual(t, "stored", n, 2)
	requireEqual(t, "Seq of repeated id", second.Seq, int64(0))

	events, total := findEvents(t, s, dayFilter())
	requireEqual(t, "total", total, 2)
	requireEqual(t, "ids", eventIDs(events), []string{"y", "x"})
	requireEqual(t, "username of x", events[1].Username, "u-alice")
	requireEqual(t, "Seq of x", events[1].Seq, first.Seq)
}

func testCreateEventsIDPerProject(t *testing.T, s userevents.Store) {
	requireEqual(t, "stored in A", createEvents(t, s, projectA, newEvent("same", at(10, 0, 0, 0))), 1)
	requireEqual(t, "stored in B", createEvents(t, s, projectB, newEvent("same", at(10, 0, 0, 0))), 1)

	_, totalA := findEvents(t, s, dayFilter())
	filterB := dayFilter()
	filterB.ProjectID = projectB
	_, totalB := findEvents(t, s, filterB)
	requireEqual(t, "total in A", totalA, 1)
	requireEqual(t, "total in B", totalB, 1)
}

func testCreateEventsEmpty(t *testing.T, s userevents.Store) {
	requireEqual(t, "stored", createEvents(t, s, projectA), 0)
	_, total := findEvents(t, s, dayFilter())
	requireEqual(t, "total", total, 0)
}

func testFindEventsOrder(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectA,
		newEvent("mid", at(12, 0, 0, 0)),
		newEvent("old", at(8, 0, 0, 0)),
		newEvent("new", at(16, 0, 0, 0)),
	)
	events, _ := findEvents(t, s, dayFilter())
	requireEqual(t, "ids", eventIDs(events), []string{"new", "mid", "old"})
}

func testFindEventsPagingTies(t *testing.T, s userevents.Store) {
	// 30 events share one time, between a newer and an older one; three
	// batches interleave their seq values.
	var want []string
	var batches [3][]*userevents.Event
	for i := range 30 {
		batches[i%3] = append(batches[i%3], newEvent(label("tie", i), at(10, 0, 0, 0)))
	}
	for _, b := range batches {
		createEvents(t, s, projectA, b...)
	}
	createEvents(t, s, projectA, newEvent("newest", at(10, 0, 0, 1)), newEvent("oldest", at(9, 59, 59, 999_999)))

	want = append(want, "newest")
	for i := 2; i >= 0; i-- {
		for j := len(batches[i]) - 1; j >= 0; j-- {
			want = append(want, batches[i][j].EventID)
		}
	}
	want = append(want, "oldest")

	for _, pageSize := range []int{1, 4, 7, 32, 100} {
		var got []string
		f := dayFilter()
		f.Limit = pageSize
		for f.Offset = 0; f.Offset < 40; f.Offset += pageSize {
			events, total := findEvents(t, s, f)
			requireEqual(t, "total", total, 32)
			got = append(got, eventIDs(events)...)
		}
		requireEqual(t, "ids paged by "+label("size", pageSize), got, want)
	}
}

func testFindEventsBounds(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectA,
		newEvent("09:59:59.999", at(9, 59, 59, 999_000)),
		newEvent("10:00:00", at(10, 0, 0, 0)),
		newEvent("10:00:00.000001", at(10, 0, 0, 1)),
		newEvent("10:01:01", at(10, 1, 1, 0)),
	)
	tests := []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"up to 10:00:00", at(9, 0, 0, 0), at(10, 0, 0, 0), []string{"10:00:00", "09:59:59.999"}},
		{"from 10:00:00", at(10, 0, 0, 0), at(11, 0, 0, 0),
			[]string{"10:01:01", "10:00:00.000001", "10:00:00"}},
		{"one microsecond", at(10, 0, 0, 1), at(10, 0, 0, 1), []string{"10:00:00.000001"}},
		{"up to 10:01:00.999999", at(10, 0, 0, 1), at(10, 1, 0, 999_999), []string{"10:00:00.000001"}},
		{"ends exactly at 10:01:01", at(10, 0, 0, 2), at(10, 1, 1, 0), []string{"10:01:01"}},
		{"empty range", at(10, 0, 0, 2), at(10, 1, 0, 0), []string{}},
		{"end before start", at(11, 0, 0, 0), at(9, 0, 0, 0), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := dayFilter()
			f.Start, f.End = tt.start, tt.end
			events, total := findEvents(t, s, f)
			requireEqual(t, "ids", eventIDs(events), tt.want)
			requireEqual(t, "total", total, len(tt.want))
		})
	}
}

func testFindEventsFractionSpelling(t *testing.T, s userevents.Store) {
	short, err := time.Parse(time.RFC3339Nano, "2024-05-01T10:00:00.5Z")
	requireNoError(t, err, "time.Parse()")
	long, err := time.Parse(time.RFC3339Nano, "2024-05-01T10:00:00.500000Z")
	requireNoError(t, err, "time.Parse()")
	offset, err := time.Parse(time.RFC3339Nano, "2024-05-01T12:00:00.500+02:00")
	requireNoError(t, err, "time.Parse()")
	createEvents(t, s, projectA, newEvent("half", short))

	for _, bound := range []time.Time{long, offset} {
		f := dayFilter()
		f.Start, f.End = bound, bound
		events, total := findEvents(t, s, f)
		requireEqual(t, "ids", eventIDs(events), []string{"half"})
		requireEqual(t, "total", total, 1)
	}
}

func testFindEventsFilters(t *testing.T, s userevents.Store) {
	events := []*userevents.Event{
		{EventID: "1", Username: "ann lee", EventType: "LOGIN", ResourceID: "r1", ResourceName: "desk:01", Domain: "a.local"},
		{EventID: "2", Username: "ann+lee", EventType: "LOGOUT", ResourceID: "r2", ResourceName: "desk%3A01", Domain: "a.local"},
		{EventID: "3", Username: "bob", EventType: "CONNECT", ResourceID: "r1", ResourceName: "桌面", Domain: "b.local"},
		{EventID: "4", Username: "Bob", EventType: "LOGIN", ResourceID: "R1", ResourceName: "desk:01", Domain: ""},
		{EventID: "5", Username: "bob", EventType: "login", ResourceID: "r3", ResourceName: "desk:02", Domain: "a.local"},
	}
	for i, ev := range events {
		ev.EventTime = at(10, i, 0, 0)
	}
	createEvents(t, s, projectA, events...)

	tests := []struct {
		name   string
		filter func(f *userevents.EventFilter)
		want   []string
	}{
		{"none", func(f *userevents.EventFilter) {}, []string{"5", "4", "3", "2", "1"}},
		{"username with space", func(f *userevents.EventFilter) { f.Username = ptr("ann lee") }, []string{"1"}},
		{"username with plus", func(f *userevents.EventFilter) { f.Username = ptr("ann+lee") }, []string{"2"}},
		{"username is case-sensitive", func(f *userevents.EventFilter) { f.Username = ptr("bob") }, []string{"5", "3"}},
		{"username matches nothing", func(f *userevents.EventFilter) { f.Username = ptr("") }, []string{}},
		{"one event type", func(f *userevents.EventFilter) { f.EventTypes = []string{"LOGIN"} }, []string{"4", "1"}},
		{"any of event types", func(f *userevents.EventFilter) { f.EventTypes = []string{"LOGOUT", "CONNECT"} },
			[]string{"3", "2"}},
		{"unknown event type", func(f *userevents.EventFilter) { f.EventTypes = []string{"REBOOT"} }, []string{}},
		{"resource id", func(f *userevents.EventFilter) { f.ResourceID = ptr("r1") }, []string{"3", "1"}},
		{"resource name with colon", func(f *userevents.EventFilter) { f.ResourceName = ptr("desk:01") },
			[]string{"4", "1"}},
		{"resource name taken literally", func(f *userevents.EventFilter) { f.ResourceName = ptr("desk%3A01") },
			[]string{"2"}},
		{"resource name in UTF-8", func(f *userevents.EventFilter) { f.ResourceName = ptr("桌面") }, []string{"3"}},
		{"domain", func(f *userevents.EventFilter) { f.Domain = ptr("a.local") }, []string{"5", "2", "1"}},
		{"empty domain", func(f *userevents.EventFilter) { f.Domain = ptr("") }, []string{"4"}},
		{"domain and event type", func(f *userevents.EventFilter) {
			f.Domain = ptr("a.local")
			f.EventTypes = []string{"LOGIN", "login"}
		}, []string{"5", "1"}},
		{"all filters", func(f *userevents.EventFilter) {
			f.Username = ptr("ann lee")
			f.EventTypes = []string{"LOGIN"}
			f.ResourceID = ptr("r1")
			f.ResourceName = ptr("desk:01")
			f.Domain = ptr("a.local")
		}, []string{"1"}},
		{"filters that exclude each other", func(f *userevents.EventFilter) {
			f.Username = ptr("ann lee")
			f.ResourceID = ptr("r2")
		}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := dayFilter()
			tt.filter(&f)
			events, total := findEvents(t, s, f)
			requireEqual(t, "ids", eventIDs(events), tt.want)
			requireEqual(t, "total", total, len(tt.want))
		})
	}
}

func testFindEventsCount(t *testing.T, s userevents.Store) {
	for i := range 10 {
		createEvents(t, s, projectA, newEvent(label("ev", i), at(10, i, 0, 0)))
	}
	f := dayFilter()
	f.Offset, f.Limit = 3, 2
	events, total := findEvents(t, s, f)
	requireEqual(t, "ids", eventIDs(events), []string{"ev-006", "ev-005"})
	requireEqual(t, "total", total, 10)
}

func testFindEventsLimitZero(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectA, newEvent("a", at(10, 0, 0, 0)), newEvent("b", at(11, 0, 0, 0)))
	f := dayFilter()
	f.Limit = 0
	events, total := findEvents(t, s, f)
	requireEqual(t, "number of events", len(events), 0)
	requireEqual(t, "total", total, 2)
}

func testFindEventsOffsetPastEnd(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectA, newEvent("a", at(10, 0, 0, 0)), newEvent("b", at(11, 0, 0, 0)))
	f := dayFilter()
	f.Offset = 2
	events, total := findEvents(t, s, f)
	requireEqual(t, "number of events", len(events), 0)
	requireEqual(t, "total", total, 2)
}

// testFindEventsCountLongRange checks counts over ranges that span many
// hours and cut hours at various points, against a count made here.
func testFindEventsCountLongRange(t *testing.T, s userevents.Store) {
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	types := []string{"LOGIN", "LOGOUT", "CONNECT"}
	domains := []string{"a.local", "b.local"}
	var all []*userevents.Event
	var batch []*userevents.Event
	for i := range 600 {
		// Spread over about 50 hours, with some events exactly on an hour.
		offset := time.Duration(i) * 5 * time.Minute
		if i%7 == 0 {
			offset = offset.Truncate(time.Hour)
		}
		if i%11 == 0 {
			offset -= time.Microsecond
		}
		ev := newEvent(label("ev", i), base.Add(offset))
		ev.EventType = types[i%len(types)]
		ev.Domain = domains[i%len(domains)]
		all = append(all, ev)
		batch = append(batch, ev)
		if len(batch) == 100 {
			createEvents(t, s, projectA, batch...)
			batch = nil
		}
	}

	count := func(start, end time.Time, types []string, domain *string) int {
		n := 0
		for _, ev := range all {
			if ev.EventTime.Before(start) || ev.EventTime.After(end) {
				continue
			}
			if len(types) > 0 && !slices.Contains(types, ev.EventType) {
				continue
			}
			if domain != nil && ev.Domain != *domain {
				continue
			}
			n++
		}
		return n
	}

	h := time.Hour
	us := time.Microsecond
	ranges := []struct{ start, end time.Time }{
		{base.Add(-h), base.Add(60 * h)},
		{base, base.Add(48 * h)},
		{base, base.Add(48*h - us)},
		{base.Add(us), base.Add(48*h + us)},
		{base.Add(-us), base.Add(3*h - us)},
		{base.Add(90 * time.Minute), base.Add(30*h + 17*time.Minute)},
		{base.Add(5 * h), base.Add(5*h + 59*time.Minute)},
		{base.Add(7*h - us), base.Add(7 * h)},
	}
	filters := []struct {
		types  []string
		domain *string
	}{
		{nil, nil},
		{[]string{"LOGIN"}, nil},
		{[]string{"LOGIN", "CONNECT"}, nil},
		{nil, ptr("b.local")},
		{[]string{"LOGOUT"}, ptr("a.local")},
	}
	for _, r := range ranges {
		for _, fl := range filters {
			f := dayFilter()
			f.Start, f.End, f.EventTypes, f.Domain = r.start, r.end, fl.types, fl.domain
			f.Limit = 0
			_, total := findEvents(t, s, f)
			want := count(r.start, r.end, fl.types, fl.domain)
			if total != want {
				domain := "any"
				if fl.domain != nil {
					domain = *fl.domain
				}
				t.Errorf("total from %s to %s with types %v, domain %s = %d, want %d",
					r.start.Format(time.RFC3339Nano), r.end.Format(time.RFC3339Nano),
					fl.types, domain, total, want)
			}
		}
	}
}

func testFindEventsOtherProject(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectB, newEvent("b", at(10, 0, 0, 0)))
	events, total := findEvents(t, s, dayFilter())
	requireEqual(t, "number of events", len(events), 0)
	requireEqual(t, "total", total, 0)
}
