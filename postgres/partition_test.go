package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/postgres"
)

// monthOf returns the first instant of the month months after t's month.
func monthOf(t time.Time, months int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
}

// partitionOf returns the name of the partition that holds the event, or
// the default partition's name.
func partitionOf(t *testing.T, url, eventID string) string {
	t.Helper()
	return query[string](t, url, `SELECT tableoid::regclass::text FROM events WHERE event_id = $1`, eventID)
}

// countEvents returns FindEvents' total over all time.
func countEvents(t *testing.T, db *postgres.DB) int {
	t.Helper()
	_, total, err := db.FindEvents(t.Context(), userevents.EventFilter{ProjectID: testProject})
	if err != nil {
		t.Fatalf("FindEvents() error = %v", err)
	}
	return total
}

func TestPartitionCreatedOnDemand(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	db := openDB(t, url)
	now := time.Now()
	events := []*userevents.Event{
		{EventID: "this-month", EventTime: monthOf(now, 0).Add(time.Hour)},
		{EventID: "last-month", EventTime: monthOf(now, 0).Add(-time.Microsecond)},
		{EventID: "ancient", EventTime: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{EventID: "far-future", EventTime: monthOf(now, 120)},
	}
	if _, err := db.CreateEvents(t.Context(), testProject, events); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}

	want := map[string]string{
		"this-month": fmt.Sprintf("events_p%s", monthOf(now, 0).Format("200601")),
		"last-month": fmt.Sprintf("events_p%s", monthOf(now, -1).Format("200601")),
		"ancient":    "events_default",
		"far-future": "events_default",
	}
	for id, partition := range want {
		if got := partitionOf(t, url, id); got != partition {
			t.Errorf("partition of %s = %s, want %s", id, got, partition)
		}
	}
}

func TestPartitionTakesRowsFromDefault(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	db := openDB(t, url)
	// The store's clock reads 1999, so the events of 2024 fall outside the
	// on-demand window and land in the default partition.
	db.Now = func() time.Time { return time.Date(1999, 1, 15, 0, 0, 0, 0, time.UTC) }
	may := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.CreateEvents(t.Context(), testProject, newEvents("early", 10, may)); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	if got := partitionOf(t, url, "early-000000"); got != "events_default" {
		t.Fatalf("partition of an event outside the window = %s, want events_default", got)
	}

	// A replica whose clock is in 2024 creates May's partition, which
	// must take over the rows that the default partition holds.
	other := openDB(t, url)
	other.Now = func() time.Time { return may.Add(24 * time.Hour) }
	if _, err := other.CreateEvents(t.Context(), testProject, newEvents("late", 10, may.Add(time.Hour))); err != nil {
		t.Fatalf("CreateEvents() that creates the partition error = %v", err)
	}
	for _, id := range []string{"early-000000", "late-000000"} {
		if got := partitionOf(t, url, id); got != "events_p202405" {
			t.Errorf("partition of %s = %s, want events_p202405", id, got)
		}
	}
	if n := countEvents(t, other); n != 20 {
		t.Errorf("events after the move = %d, want 20", n)
	}
}

func TestDropEventPartitionsBefore(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	db := openDB(t, url)
	enableDelivery(t, db)
	now := time.Now()
	old, kept := monthOf(now, -3), monthOf(now, -1)
	batches := map[string]time.Time{
		"old":     old.Add(time.Hour),
		"older":   monthOf(now, -4).Add(time.Hour),
		"kept":    kept.Add(time.Hour),
		"ancient": time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), // default partition
		"future":  monthOf(now, 120),                           // default partition
	}
	for prefix, at := range batches {
		if _, err := db.CreateEvents(t.Context(), testProject, newEvents(prefix, 5, at)); err != nil {
			t.Fatalf("CreateEvents() error = %v", err)
		}
	}

	// Everything before the start of the month two months back goes.
	cut := monthOf(now, -2).Add(12 * time.Hour)
	dropped, err := db.DropEventPartitionsBefore(t.Context(), cut)
	if err != nil {
		t.Fatalf("DropEventPartitionsBefore() error = %v", err)
	}
	if dropped != 2 {
		t.Errorf("partitions dropped = %d, want 2", dropped)
	}
	if n := countEvents(t, db); n != 10 {
		t.Errorf("events left = %d, want 10 (kept and future)", n)
	}
	for _, prefix := range []string{"old", "older", "ancient"} {
		left := query[int64](t, url, `SELECT count(*) FROM event_ids WHERE event_id LIKE $1`, prefix+"-%")
		if left != 0 {
			t.Errorf("ids of dropped %s events left = %d, want 0", prefix, left)
		}
	}
	negative := query[int64](t, url, `SELECT count(*) FROM event_counts WHERE n <= 0`)
	if negative != 0 {
		t.Errorf("event_counts rows with n <= 0 = %d, want 0", negative)
	}

	// A dropped id may be stored again, into a partition made anew.
	n, err := db.CreateEvents(t.Context(), testProject, newEvents("old", 1, old.Add(time.Hour)))
	if err != nil || n != 1 {
		t.Errorf("CreateEvents() of a dropped id = %d, %v; want 1, nil", n, err)
	}
	_, total, err := db.FindEvents(t.Context(), userevents.EventFilter{
		ProjectID: testProject, Start: old, End: old.AddDate(0, 1, 0).Add(-time.Microsecond),
	})
	if err != nil || total != 1 {
		t.Errorf("FindEvents() total in the dropped month = %d, %v; want 1", total, err)
	}

	// Deliveries keep their copy of a dropped event.
	st, err := db.FindDeliveryStats(t.Context(), testProject)
	if err != nil || st.Pending != 26 {
		t.Fatalf("queued deliveries = %d, %v; want 26", st.Pending, err)
	}
	leased, err := db.LeaseDeliveries(t.Context(), "w1", 100, time.Minute)
	if err != nil || len(leased) != 26 {
		t.Fatalf("LeaseDeliveries() = %d, %v; want 26", len(leased), err)
	}

	again, err := db.DropEventPartitionsBefore(t.Context(), cut)
	if err != nil || again != 1 {
		t.Errorf("second DropEventPartitionsBefore() = %d, %v; want 1 (the month made anew)", again, err)
	}
}

func TestCountsExactAcrossPartitions(t *testing.T) {
	t.Parallel()
	db := openDB(t, newSchema(t))
	now := time.Now()
	boundary := monthOf(now, 0)
	var events []*userevents.Event
	for i := range 200 {
		ev := &userevents.Event{
			EventID:   fmt.Sprintf("ev-%03d", i),
			EventType: []string{"LOGIN", "LOGOUT"}[i%2],
			EventTime: boundary.Add(time.Duration(i-100) * 7 * time.Minute),
		}
		events = append(events, ev)
	}
	if _, err := db.CreateEvents(t.Context(), testProject, events); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	ranges := []struct{ start, end time.Time }{
		{boundary.Add(-5 * time.Hour), boundary.Add(5 * time.Hour)},
		{boundary.Add(-90 * time.Minute), boundary.Add(-time.Microsecond)},
		{boundary, boundary.Add(3*time.Hour + 17*time.Minute)},
		{boundary.Add(-11*time.Hour - time.Microsecond), boundary.Add(11*time.Hour + time.Microsecond)},
	}
	for _, r := range ranges {
		for _, types := range [][]string{nil, {"LOGIN"}, {"LOGIN", "LOGOUT"}} {
			want := 0
			for _, ev := range events {
				inType := len(types) == 0 || slices.Contains(types, ev.EventType)
				if inType && !ev.EventTime.Before(r.start) && !ev.EventTime.After(r.end) {
					want++
				}
			}
			page, total, err := db.FindEvents(t.Context(), userevents.EventFilter{
				ProjectID: testProject, Start: r.start, End: r.end, EventTypes: types, Limit: 1000,
			})
			if err != nil {
				t.Fatalf("FindEvents() error = %v", err)
			}
			if total != want || len(page) != want {
				t.Errorf("from %s to %s, types %v: total %d, page %d; want %d",
					r.start.Format(time.RFC3339Nano), r.end.Format(time.RFC3339Nano), types,
					total, len(page), want)
			}
		}
	}
}

func TestIntakeWhilePartitionLocked(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	db := openDB(t, url)
	month := monthOf(time.Now(), 2)

	// A reader of the default partition keeps the new month's partition
	// from being attached until the store's lock wait times out.
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE events_default IN ACCESS SHARE MODE`); err != nil {
		t.Fatalf("lock the default partition: %v", err)
	}
	n, err := db.CreateEvents(ctx, testProject, newEvents("blocked", 3, month.Add(time.Hour)))
	if err != nil || n != 3 {
		t.Fatalf("CreateEvents() while the partition cannot be made = %d, %v; want 3, nil", n, err)
	}
	if got := partitionOf(t, url, "blocked-000000"); got != "events_default" {
		t.Errorf("partition of an event stored while blocked = %s, want events_default", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// The next batch of that month creates the partition and moves the
	// earlier events into it.
	if _, err := db.CreateEvents(ctx, testProject, newEvents("later", 1, month.Add(2*time.Hour))); err != nil {
		t.Fatalf("CreateEvents() after the lock is gone: %v", err)
	}
	want := "events_p" + month.Format("200601")
	for _, id := range []string{"blocked-000000", "later-000000"} {
		if got := partitionOf(t, url, id); got != want {
			t.Errorf("partition of %s = %s, want %s", id, got, want)
		}
	}
}
