package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

var logLineCases = []testCase{
	{"AppendLogs/stores every field", testAppendLogsRoundTrip},
	{"AppendLogs/unknown stream stores nothing", testAppendLogsUnknownStream},
	{"FindLogs/inclusive millisecond range", testFindLogsRange},
	{"FindLogs/keywords", testFindLogsKeywords},
	{"FindLogs/labels", testFindLogsLabels},
	{"FindLogs/paging ascending", testFindLogsPagingAsc},
	{"FindLogs/paging descending", testFindLogsPagingDesc},
	{"FindLogs/limit zero returns total", testFindLogsLimitZero},
	{"FindLogs/unknown cursor", testFindLogsUnknownCursor},
}

// line returns a log record at the time with the content and labels; the
// stream is set by appendLines.
func line(t time.Time, content string, labels map[string]string) *userevents.LogRecord {
	return &userevents.LogRecord{TimeNs: t.UnixNano(), Content: content, Labels: labels}
}

// appendLines stores the records in the stream.
func appendLines(t *testing.T, s userevents.Store, st *userevents.LogStream, records ...*userevents.LogRecord) {
	t.Helper()
	for _, r := range records {
		r.ProjectID, r.GroupID, r.StreamID = st.ProjectID, st.GroupID, st.ID
	}
	requireNoError(t, s.AppendLogs(t.Context(), records), "AppendLogs()")
}

func findLines(t *testing.T, s userevents.Store, q userevents.LogQuery) ([]*userevents.LogRecord, int) {
	t.Helper()
	records, total, err := s.FindLogs(t.Context(), q)
	requireNoError(t, err, "FindLogs()")
	return records, total
}

// contents returns the Content of each record, in order.
func contents(records []*userevents.LogRecord) []string {
	out := []string{}
	for _, r := range records {
		out = append(out, r.Content)
	}
	return out
}

// newStream creates a group and a stream in projectA.
func newStream(t *testing.T, s userevents.Store) *userevents.LogStream {
	t.Helper()
	return createStream(t, s, createGroup(t, s, projectA, "group"), "stream")
}

// streamQuery returns a query over all of the stream's lines.
func streamQuery(st *userevents.LogStream) userevents.LogQuery {
	return userevents.LogQuery{
		ProjectID: st.ProjectID,
		GroupID:   st.GroupID,
		StreamID:  st.ID,
		StartMs:   at(0, 0, 0, 0).UnixMilli(),
		EndMs:     at(23, 59, 59, 999_999).UnixMilli(),
		Limit:     userevents.MaxLogQueryLimit,
	}
}

func testAppendLogsRoundTrip(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	first := line(at(10, 0, 0, 0).Add(123), `{"eventId":"e1","username":"桌面"}`,
		map[string]string{"host": "vm-1", "a.b": "x\"y"})
	second := line(at(10, 0, 1, 0), "plain", nil)
	appendLines(t, s, st, first, second)
	if first.Seq <= 0 || second.Seq <= first.Seq {
		t.Fatalf("Seq of appended lines = %d, %d, want positive and increasing", first.Seq, second.Seq)
	}

	records, total := findLines(t, s, streamQuery(st))
	requireEqual(t, "total", total, 2)
	requireEqual(t, "first line", *records[0], *first)
	requireEqual(t, "second line", *records[1], *second)
}

func testAppendLogsUnknownStream(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	other := createGroup(t, s, projectA, "other")
	good := line(at(10, 0, 0, 0), "good", nil)
	good.ProjectID, good.GroupID, good.StreamID = st.ProjectID, st.GroupID, st.ID

	for name, bad := range map[string]*userevents.LogRecord{
		"unknown stream": {ProjectID: projectA, GroupID: st.GroupID, StreamID: uuid.NewString()},
		"wrong group":    {ProjectID: projectA, GroupID: other.ID, StreamID: st.ID},
		"wrong project":  {ProjectID: projectB, GroupID: st.GroupID, StreamID: st.ID},
	} {
		err := s.AppendLogs(t.Context(), []*userevents.LogRecord{good, bad})
		if userevents.ErrorCode(err) != userevents.ENOTFOUND {
			t.Fatalf("AppendLogs() with %s: error = %v, want code %q", name, err, userevents.ENOTFOUND)
		}
	}
	_, total := findLines(t, s, streamQuery(st))
	requireEqual(t, "lines stored", total, 0)
}

func testFindLogsRange(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	start := at(10, 0, 0, 0)
	appendLines(t, s, st,
		line(start.Add(-time.Nanosecond), "before start", nil),
		line(start, "at start", nil),
		line(start.Add(time.Second+999_999*time.Nanosecond), "last nanosecond of end", nil),
		line(start.Add(time.Second+time.Millisecond), "after end", nil),
	)
	q := streamQuery(st)
	q.StartMs = start.UnixMilli()
	q.EndMs = start.Add(time.Second).UnixMilli()
	records, total := findLines(t, s, q)
	requireEqual(t, "lines", contents(records), []string{"at start", "last nanosecond of end"})
	requireEqual(t, "total", total, 2)
}

func testFindLogsKeywords(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	appendLines(t, s, st,
		line(at(10, 0, 0, 0), "User u-alice LOGIN ok", nil),
		line(at(10, 0, 1, 0), "user u-bob LOGIN failed", nil),
		line(at(10, 0, 2, 0), "User u-alice LOGOUT", nil),
		line(at(10, 0, 3, 0), "50%_off", nil),
		line(at(10, 0, 4, 0), "50x off", nil),
	)
	tests := []struct {
		name     string
		keywords []string
		want     []string
	}{
		{"none", nil, []string{"User u-alice LOGIN ok", "user u-bob LOGIN failed",
			"User u-alice LOGOUT", "50%_off", "50x off"}},
		{"every keyword must occur", []string{"User", "LOGIN"}, []string{"User u-alice LOGIN ok"}},
		{"case-sensitive", []string{"login"}, []string{}},
		{"substring", []string{"LOG"}, []string{"User u-alice LOGIN ok", "user u-bob LOGIN failed",
			"User u-alice LOGOUT"}},
		{"wildcards are literal", []string{"%_"}, []string{"50%_off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := streamQuery(st)
			q.Keywords = tt.keywords
			records, total := findLines(t, s, q)
			requireEqual(t, "lines", contents(records), tt.want)
			requireEqual(t, "total", total, len(tt.want))
		})
	}
}

func testFindLogsLabels(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	appendLines(t, s, st,
		line(at(10, 0, 0, 0), "a-prod", map[string]string{"host": "a", "env": "prod"}),
		line(at(10, 0, 1, 0), "b-prod", map[string]string{"host": "b", "env": "prod"}),
		line(at(10, 0, 2, 0), "a", map[string]string{"host": "a"}),
		line(at(10, 0, 3, 0), "dotted", map[string]string{"k.8s": "1", `q"uote`: "v"}),
	)
	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"one label", map[string]string{"host": "a"}, []string{"a-prod", "a"}},
		{"every label must match", map[string]string{"host": "a", "env": "prod"}, []string{"a-prod"}},
		{"exact value", map[string]string{"host": "A"}, []string{}},
		{"missing label", map[string]string{"env": ""}, []string{}},
		{"key with dot", map[string]string{"k.8s": "1"}, []string{"dotted"}},
		{"key with quote", map[string]string{`q"uote`: "v"}, []string{"dotted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := streamQuery(st)
			q.Labels = tt.labels
			records, total := findLines(t, s, q)
			requireEqual(t, "lines", contents(records), tt.want)
			requireEqual(t, "total", total, len(tt.want))
		})
	}
}

// appendPagingLines appends lines whose times repeat and arrive out of
// order, and returns their contents in ascending (time, append) order.
func appendPagingLines(t *testing.T, s userevents.Store, st *userevents.LogStream) []string {
	t.Helper()
	var records []*userevents.LogRecord
	for i := range 20 {
		second := (i * 7) % 5 // 0, 2, 4, 1, 3, 0, ...
		records = append(records, line(at(10, 0, second, 0), label("line", i), map[string]string{"n": "x"}))
	}
	appendLines(t, s, st, records[:10]...)
	appendLines(t, s, st, records[10:]...)

	var want []string
	for second := range 5 {
		for i := range 20 {
			if (i*7)%5 == second {
				want = append(want, label("line", i))
			}
		}
	}
	return want
}

func pageLines(t *testing.T, s userevents.Store, q userevents.LogQuery, pageSize, total int) []string {
	t.Helper()
	q.Limit = pageSize
	var got []string
	for range total + 1 {
		records, n := findLines(t, s, q)
		requireEqual(t, "total", n, total)
		if len(records) == 0 {
			break
		}
		got = append(got, contents(records)...)
		q.AfterSeq = records[len(records)-1].Seq
	}
	return got
}

func testFindLogsPagingAsc(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	want := appendPagingLines(t, s, st)
	for _, size := range []int{1, 3, 7, 50} {
		got := pageLines(t, s, streamQuery(st), size, len(want))
		requireEqual(t, "lines paged by "+label("size", size), got, want)
	}
	q := streamQuery(st)
	q.Labels = map[string]string{"n": "x"}
	q.Keywords = []string{"line"}
	requireEqual(t, "filtered lines paged", pageLines(t, s, q, 4, len(want)), want)
}

func testFindLogsPagingDesc(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	asc := appendPagingLines(t, s, st)
	var want []string
	for i := len(asc) - 1; i >= 0; i-- {
		want = append(want, asc[i])
	}
	q := streamQuery(st)
	q.Desc = true
	for _, size := range []int{1, 3, 7, 50} {
		got := pageLines(t, s, q, size, len(want))
		requireEqual(t, "lines paged by "+label("size", size), got, want)
	}
}

func testFindLogsLimitZero(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	appendLines(t, s, st, line(at(10, 0, 0, 0), "a", nil), line(at(10, 0, 1, 0), "b", nil))
	q := streamQuery(st)
	q.Limit = 0
	records, total := findLines(t, s, q)
	requireEqual(t, "number of lines", len(records), 0)
	requireEqual(t, "total", total, 2)
}

func testFindLogsUnknownCursor(t *testing.T, s userevents.Store) {
	st := newStream(t, s)
	other := createStream(t, s, createGroup(t, s, projectA, "other"), "other")
	foreign := line(at(10, 0, 0, 0), "elsewhere", nil)
	appendLines(t, s, other, foreign)
	appendLines(t, s, st, line(at(10, 0, 0, 0), "a", nil))

	q := streamQuery(st)
	q.AfterSeq = foreign.Seq
	_, _, err := s.FindLogs(t.Context(), q)
	requireCode(t, err, userevents.EINVALID)
}
