package storetest

import (
	"testing"
	"time"

	"github.com/userevents/userevents"
)

var ltsConfigCases = []testCase{
	{"FindLTSConfig/absent is disabled", testLTSConfigAbsent},
	{"SetLTSConfig/replaces setting", testLTSConfigReplace},
}

var outboxCases = []testCase{
	{"CreateEvents/queues nothing without config", testQueueNoConfig},
	{"CreateEvents/queues nothing when disabled", testQueueDisabled},
	{"CreateEvents/queues new events when enabled", testQueueEnabled},
	{"CreateEvents/queues skipped ids once", testQueueDuplicates},
	{"CreateEvents/queued target survives switch", testQueueTargetAtQueueTime},
	{"LeaseDeliveries/empty outbox", testLeaseEmpty},
	{"LeaseDeliveries/one target per lease", testLeaseOneTarget},
	{"LeaseDeliveries/limit and order", testLeaseLimitOrder},
	{"LeaseDeliveries/held rows not leased again", testLeaseHeld},
	{"LeaseDeliveries/expired lease taken over", testLeaseTakeover},
	{"CompleteDeliveries/removes and counts", testComplete},
	{"CompleteDeliveries/ignores other owner", testCompleteOtherOwner},
	{"RetryDeliveries/due again at next", testRetry},
	{"RetryDeliveries/counts attempts", testRetryAttempts},
	{"RetryDeliveries/ignores other owner", testRetryOtherOwner},
	{"RetryDeliveries/pauses the whole target", testRetryPausesTarget},
	{"CompleteDeliveriesWithLogs/one transaction", testCompleteWithLogs},
	{"FindDeadLetters/newest first with events", testFindDeadLetters},
	{"RequeueDeadLetters/back to the outbox", testRequeueDeadLetters},
	{"DeadLetterDeliveries/moves and counts", testDeadLetter},
	{"DeadLetterDeliveries/ignores other owner", testDeadLetterOtherOwner},
	{"NextDeliveryDue/follows queue and leases", testNextDeliveryDue},
	{"FindDeliveryStats/counts per project", testStatsPerProject},
}

// Log stream targets used by the outbox tests.
const (
	groupOne  = "11111111-1111-4111-8111-111111111111"
	streamOne = "22222222-2222-4222-8222-222222222222"
	streamTwo = "33333333-3333-4333-8333-333333333333"
)

func enable(t *testing.T, s userevents.Store, projectID, groupID, streamID string) {
	t.Helper()
	err := s.SetLTSConfig(t.Context(), &userevents.LTSConfig{
		ProjectID: projectID, Enabled: true, LogGroupID: groupID, LogStreamID: streamID,
	})
	requireNoError(t, err, "SetLTSConfig()")
}

// queueEvents enables delivery to streamOne in the project and stores n
// events there, a second apart from 10:00. The ids start with prefix.
func queueEvents(t *testing.T, s userevents.Store, projectID, prefix string, n int) []*userevents.Event {
	t.Helper()
	enable(t, s, projectID, groupOne, streamOne)
	var events []*userevents.Event
	for i := range n {
		events = append(events, newEvent(label(prefix, i), at(10, 0, i, 0)))
	}
	createEvents(t, s, projectID, events...)
	return events
}

func lease(t *testing.T, s userevents.Store, owner string, limit int, d time.Duration) []*userevents.Delivery {
	t.Helper()
	deliveries, err := s.LeaseDeliveries(t.Context(), owner, limit, d)
	requireNoError(t, err, "LeaseDeliveries()")
	return deliveries
}

func stats(t *testing.T, s userevents.Store, projectID string) *userevents.DeliveryStats {
	t.Helper()
	st, err := s.FindDeliveryStats(t.Context(), projectID)
	requireNoError(t, err, "FindDeliveryStats()")
	return st
}

// deliveredIDs returns the EventID of each delivery's event, in order.
func deliveredIDs(deliveries []*userevents.Delivery) []string {
	ids := []string{}
	for _, d := range deliveries {
		ids = append(ids, d.Event.EventID)
	}
	return ids
}

func deliveryIDs(deliveries []*userevents.Delivery) []int64 {
	var ids []int64
	for _, d := range deliveries {
		ids = append(ids, d.ID)
	}
	return ids
}

func testLTSConfigAbsent(t *testing.T, s userevents.Store) {
	cfg, err := s.FindLTSConfig(t.Context(), projectA)
	requireNoError(t, err, "FindLTSConfig()")
	requireEqual(t, "config", *cfg, userevents.LTSConfig{ProjectID: projectA})
}

func testLTSConfigReplace(t *testing.T, s userevents.Store) {
	first := &userevents.LTSConfig{
		ProjectID: projectA, Enabled: true, LogGroupID: groupOne, LogStreamID: streamOne,
		UpdatedAt: at(10, 0, 0, 1),
	}
	requireNoError(t, s.SetLTSConfig(t.Context(), first), "SetLTSConfig()")
	cfg, err := s.FindLTSConfig(t.Context(), projectA)
	requireNoError(t, err, "FindLTSConfig()")
	requireEqual(t, "config", *cfg, *first)

	off := &userevents.LTSConfig{ProjectID: projectA, Enabled: false, UpdatedAt: at(11, 0, 0, 0)}
	requireNoError(t, s.SetLTSConfig(t.Context(), off), "SetLTSConfig()")
	cfg, err = s.FindLTSConfig(t.Context(), projectA)
	requireNoError(t, err, "FindLTSConfig()")
	requireEqual(t, "config after disabling", *cfg, *off)

	other, err := s.FindLTSConfig(t.Context(), projectB)
	requireNoError(t, err, "FindLTSConfig()")
	requireEqual(t, "Enabled in other project", other.Enabled, false)
}

func testQueueNoConfig(t *testing.T, s userevents.Store) {
	createEvents(t, s, projectA, newEvent("a", at(10, 0, 0, 0)))
	requireEqual(t, "Pending", stats(t, s, projectA).Pending, 0)
	requireEqual(t, "leased", len(lease(t, s, "w1", 10, time.Minute)), 0)
	_, ok, err := s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "NextDeliveryDue() ok", ok, false)
}

func testQueueDisabled(t *testing.T, s userevents.Store) {
	enable(t, s, projectA, groupOne, streamOne)
	createEvents(t, s, projectA, newEvent("before", at(10, 0, 0, 0)))
	err := s.SetLTSConfig(t.Context(), &userevents.LTSConfig{ProjectID: projectA, Enabled: false})
	requireNoError(t, err, "SetLTSConfig()")
	createEvents(t, s, projectA, newEvent("after", at(10, 0, 1, 0)))

	requireEqual(t, "Pending", stats(t, s, projectA).Pending, 1)
	requireEqual(t, "leased", deliveredIDs(lease(t, s, "w1", 10, time.Minute)), []string{"before"})
}

func testQueueEnabled(t *testing.T, s userevents.Store) {
	before := time.Now()
	events := queueEvents(t, s, projectA, "ev", 3)
	after := time.Now()

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 3)
	requireTimeBetween(t, "OldestPending", st.OldestPending, before, after)

	deliveries := lease(t, s, "w1", 10, time.Minute)
	requireEqual(t, "leased", deliveredIDs(deliveries), []string{"ev-000", "ev-001", "ev-002"})
	for i, d := range deliveries {
		requireEqual(t, "ProjectID", d.ProjectID, projectA)
		requireEqual(t, "LogGroupID", d.LogGroupID, groupOne)
		requireEqual(t, "LogStreamID", d.LogStreamID, streamOne)
		requireEqual(t, "Attempts", d.Attempts, 0)
		requireEqual(t, "LastError", d.LastError, "")
		requireTimeBetween(t, "QueuedAt", d.QueuedAt, before, after)
		requireEqual(t, "event Seq", d.Event.Seq, events[i].Seq)
		requireEqual(t, "event ProjectID", d.Event.ProjectID, projectA)
		requireEqual(t, "event Username", d.Event.Username, "u-alice")
		requireTimeEqual(t, "event EventTime", d.Event.EventTime, events[i].EventTime)
	}
}

func testQueueDuplicates(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	createEvents(t, s, projectA,
		newEvent("ev-001", at(11, 0, 0, 0)),
		newEvent("ev-002", at(11, 0, 0, 0)),
		newEvent("ev-002", at(11, 0, 1, 0)),
	)
	requireEqual(t, "Pending", stats(t, s, projectA).Pending, 3)
	requireEqual(t, "leased", deliveredIDs(lease(t, s, "w1", 10, time.Minute)),
		[]string{"ev-000", "ev-001", "ev-002"})
}

func testQueueTargetAtQueueTime(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "one", 2)
	enable(t, s, projectA, groupOne, streamTwo)
	createEvents(t, s, projectA, newEvent("two-000", at(11, 0, 0, 0)), newEvent("two-001", at(11, 0, 1, 0)))

	first := lease(t, s, "w1", 10, time.Minute)
	requireEqual(t, "first lease", deliveredIDs(first), []string{"one-000", "one-001"})
	for _, d := range first {
		requireEqual(t, "first lease stream", d.LogStreamID, streamOne)
	}
	second := lease(t, s, "w1", 10, time.Minute)
	requireEqual(t, "second lease", deliveredIDs(second), []string{"two-000", "two-001"})
	for _, d := range second {
		requireEqual(t, "second lease stream", d.LogStreamID, streamTwo)
	}
}

func testLeaseEmpty(t *testing.T, s userevents.Store) {
	deliveries := lease(t, s, "w1", 10, time.Minute)
	if deliveries == nil || len(deliveries) != 0 {
		t.Fatalf("LeaseDeliveries() = %v, want an empty slice", deliveries)
	}
}

func testLeaseOneTarget(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "a", 2)
	queueEvents(t, s, projectB, "b", 2)
	createEvents(t, s, projectA, newEvent("a-late", at(12, 0, 0, 0)))

	seen := map[string]bool{}
	for range 2 {
		deliveries := lease(t, s, "w1", 10, time.Minute)
		if len(deliveries) == 0 {
			t.Fatal("LeaseDeliveries() returned nothing, want one project's deliveries")
		}
		projectID := deliveries[0].ProjectID
		for _, d := range deliveries {
			requireEqual(t, "ProjectID in one lease", d.ProjectID, projectID)
			requireEqual(t, "event ProjectID", d.Event.ProjectID, projectID)
		}
		seen[projectID] = true
		want := map[string]int{projectA: 3, projectB: 2}[projectID]
		requireEqual(t, "leased from "+projectID, len(deliveries), want)
	}
	requireEqual(t, "projects leased", len(seen), 2)
	requireEqual(t, "third lease", len(lease(t, s, "w1", 10, time.Minute)), 0)
}

func testLeaseLimitOrder(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 5)
	requireEqual(t, "first lease", deliveredIDs(lease(t, s, "w1", 2, time.Minute)),
		[]string{"ev-000", "ev-001"})
	requireEqual(t, "second lease", deliveredIDs(lease(t, s, "w2", 10, time.Minute)),
		[]string{"ev-002", "ev-003", "ev-004"})
	requireEqual(t, "zero limit", len(lease(t, s, "w3", 0, time.Minute)), 0)
}

func testLeaseHeld(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	requireEqual(t, "first lease", len(lease(t, s, "w1", 10, time.Hour)), 2)
	requireEqual(t, "lease by another owner", len(lease(t, s, "w2", 10, time.Hour)), 0)
	requireEqual(t, "lease by the same owner", len(lease(t, s, "w1", 10, time.Hour)), 0)
	requireEqual(t, "Pending", stats(t, s, projectA).Pending, 2)
}

func testLeaseTakeover(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	first := lease(t, s, "w1", 10, time.Millisecond)
	requireEqual(t, "first lease", len(first), 2)
	time.Sleep(20 * time.Millisecond)

	second := lease(t, s, "w2", 10, time.Hour)
	requireEqual(t, "taken over", deliveredIDs(second), []string{"ev-000", "ev-001"})
	requireEqual(t, "ids taken over", deliveryIDs(second), deliveryIDs(first))

	// The first owner's late confirmation must not remove rows it lost.
	err := s.CompleteDeliveries(t.Context(), "w1", deliveryIDs(first))
	requireNoError(t, err, "CompleteDeliveries()")
	st := stats(t, s, projectA)
	requireEqual(t, "Pending after stale complete", st.Pending, 2)
	requireEqual(t, "Delivered after stale complete", st.Delivered, int64(0))

	err = s.CompleteDeliveries(t.Context(), "w2", deliveryIDs(second))
	requireNoError(t, err, "CompleteDeliveries()")
	st = stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 0)
	requireEqual(t, "Delivered", st.Delivered, int64(2))
}

func testComplete(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 3)
	deliveries := lease(t, s, "w1", 2, time.Minute)
	err := s.CompleteDeliveries(t.Context(), "w1", deliveryIDs(deliveries))
	requireNoError(t, err, "CompleteDeliveries()")

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 1)
	requireEqual(t, "Delivered", st.Delivered, int64(2))
	requireEqual(t, "Failed", st.Failed, int64(0))
	requireEqual(t, "remaining", deliveredIDs(lease(t, s, "w1", 10, time.Minute)), []string{"ev-002"})

	// Completing the same ids again changes nothing.
	err = s.CompleteDeliveries(t.Context(), "w1", deliveryIDs(deliveries))
	requireNoError(t, err, "CompleteDeliveries()")
	requireEqual(t, "Delivered after repeat", stats(t, s, projectA).Delivered, int64(2))
}

func testCompleteOtherOwner(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	deliveries := lease(t, s, "w1", 10, time.Minute)
	err := s.CompleteDeliveries(t.Context(), "w2", deliveryIDs(deliveries))
	requireNoError(t, err, "CompleteDeliveries()")

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 2)
	requireEqual(t, "Delivered", st.Delivered, int64(0))
}

func testRetry(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	deliveries := lease(t, s, "w1", 10, time.Minute)

	next := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	before := time.Now()
	err := s.RetryDeliveries(t.Context(), "w1", deliveryIDs(deliveries), next, "lts: 503 Service Unavailable")
	requireNoError(t, err, "RetryDeliveries()")
	after := time.Now()

	requireEqual(t, "leased before next", len(lease(t, s, "w2", 10, time.Minute)), 0)
	due, ok, err := s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "NextDeliveryDue() ok", ok, true)
	requireTimeEqual(t, "NextDeliveryDue()", due, next)

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 2)
	requireEqual(t, "Failed", st.Failed, int64(2))
	requireEqual(t, "LastError", st.LastError, "lts: 503 Service Unavailable")
	requireTimeBetween(t, "LastErrorAt", st.LastErrorAt, before, after)
}

func testRetryAttempts(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 2)
	lastError := ""
	for attempts := range 4 {
		// Owners alternate, as when a worker restarts between attempts.
		owner := label("worker", attempts%2)
		deliveries := lease(t, s, owner, 10, time.Minute)
		requireEqual(t, "leased", deliveredIDs(deliveries), []string{"ev-000", "ev-001"})
		for _, d := range deliveries {
			requireEqual(t, "Attempts", d.Attempts, attempts)
			requireEqual(t, "LastError", d.LastError, lastError)
		}

		lastError = label("failure", attempts+1)
		past := time.Now().Add(-time.Second)
		err := s.RetryDeliveries(t.Context(), owner, deliveryIDs(deliveries), past, lastError)
		requireNoError(t, err, "RetryDeliveries()")
	}
	requireEqual(t, "Failed", stats(t, s, projectA).Failed, int64(8))
}

func testRetryOtherOwner(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 1)
	deliveries := lease(t, s, "w1", 10, time.Hour)
	err := s.RetryDeliveries(t.Context(), "w2", deliveryIDs(deliveries), time.Now(), "stale")
	requireNoError(t, err, "RetryDeliveries()")

	st := stats(t, s, projectA)
	requireEqual(t, "Failed", st.Failed, int64(0))
	requireEqual(t, "LastError", st.LastError, "")
	requireEqual(t, "leased while held", len(lease(t, s, "w3", 10, time.Minute)), 0)
}

func testDeadLetter(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 3)
	deliveries := lease(t, s, "w1", 2, time.Minute)
	before := time.Now()
	err := s.DeadLetterDeliveries(t.Context(), "w1", deliveryIDs(deliveries), "lts: 400 log time out of range")
	requireNoError(t, err, "DeadLetterDeliveries()")
	after := time.Now()

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 1)
	requireEqual(t, "DeadLetters", st.DeadLetters, 2)
	requireEqual(t, "Failed", st.Failed, int64(2))
	requireEqual(t, "Delivered", st.Delivered, int64(0))
	requireEqual(t, "LastError", st.LastError, "lts: 400 log time out of range")
	requireTimeBetween(t, "LastErrorAt", st.LastErrorAt, before, after)
	requireEqual(t, "remaining", deliveredIDs(lease(t, s, "w2", 10, time.Minute)), []string{"ev-002"})

	// The events themselves stay listed.
	_, total := findEvents(t, s, dayFilter())
	requireEqual(t, "events total", total, 3)
}

func testDeadLetterOtherOwner(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 1)
	deliveries := lease(t, s, "w1", 10, time.Hour)
	err := s.DeadLetterDeliveries(t.Context(), "w2", deliveryIDs(deliveries), "stale")
	requireNoError(t, err, "DeadLetterDeliveries()")

	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 1)
	requireEqual(t, "DeadLetters", st.DeadLetters, 0)
	requireEqual(t, "Failed", st.Failed, int64(0))
}

func testNextDeliveryDue(t *testing.T, s userevents.Store) {
	_, ok, err := s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "ok when empty", ok, false)

	before := time.Now()
	queueEvents(t, s, projectA, "ev", 1)
	after := time.Now()
	due, ok, err := s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "ok when queued", ok, true)
	requireTimeBetween(t, "due when queued", due, before, after)

	before = time.Now()
	deliveries := lease(t, s, "w1", 10, time.Hour)
	after = time.Now()
	due, ok, err = s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "ok when leased", ok, true)
	requireTimeBetween(t, "due when leased", due, before.Add(time.Hour), after.Add(time.Hour))

	err = s.CompleteDeliveries(t.Context(), "w1", deliveryIDs(deliveries))
	requireNoError(t, err, "CompleteDeliveries()")
	_, ok, err = s.NextDeliveryDue(t.Context())
	requireNoError(t, err, "NextDeliveryDue()")
	requireEqual(t, "ok when delivered", ok, false)
}

func testStatsPerProject(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "a", 2)
	queueEvents(t, s, projectB, "b", 3)

	for range 2 {
		deliveries := lease(t, s, "w1", 10, time.Minute)
		if len(deliveries) == 0 {
			t.Fatal("LeaseDeliveries() returned nothing, want a project's deliveries")
		}
		if deliveries[0].ProjectID == projectA {
			err := s.CompleteDeliveries(t.Context(), "w1", deliveryIDs(deliveries))
			requireNoError(t, err, "CompleteDeliveries()")
		} else {
			err := s.DeadLetterDeliveries(t.Context(), "w1", deliveryIDs(deliveries[:1]), "bad")
			requireNoError(t, err, "DeadLetterDeliveries()")
		}
	}

	a := stats(t, s, projectA)
	requireEqual(t, "stats of A", *a, userevents.DeliveryStats{ProjectID: projectA, Delivered: 2})
	b := stats(t, s, projectB)
	requireEqual(t, "Pending of B", b.Pending, 2)
	requireEqual(t, "DeadLetters of B", b.DeadLetters, 1)
	requireEqual(t, "Failed of B", b.Failed, int64(1))
	requireEqual(t, "Delivered of B", b.Delivered, int64(0))
	requireEqual(t, "LastError of B", b.LastError, "bad")
	if b.OldestPending.IsZero() {
		t.Fatal("OldestPending of B is zero, want the queue time")
	}
	none := stats(t, s, "00000000000000000000000000000000")
	requireEqual(t, "stats of unknown project", *none,
		userevents.DeliveryStats{ProjectID: "00000000000000000000000000000000"})
}

func testRetryPausesTarget(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 5)
	enable(t, s, projectA, groupOne, streamTwo)
	createEvents(t, s, projectA, newEvent("other", at(11, 0, 0, 0)))

	first := lease(t, s, "w1", 2, time.Minute)
	requireEqual(t, "first lease", deliveredIDs(first), []string{"ev-000", "ev-001"})
	next := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	err := s.RetryDeliveries(t.Context(), "w1", deliveryIDs(first), next, "lts: 503")
	requireNoError(t, err, "RetryDeliveries()")

	// The rest of the failing stream waits; the other stream does not.
	requireEqual(t, "leased after pause", deliveredIDs(lease(t, s, "w2", 10, time.Minute)), []string{"other"})
	requireEqual(t, "leased while paused", len(lease(t, s, "w2", 10, time.Minute)), 0)
	st := stats(t, s, projectA)
	requireTimeEqual(t, "NextAttempt", st.NextAttempt, next)
}

func testFindDeadLetters(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 3)
	for i, reason := range []string{"too large", "too old"} {
		deliveries := lease(t, s, "w1", 1, time.Minute)
		requireEqual(t, "leased", len(deliveries), 1)
		err := s.DeadLetterDeliveries(t.Context(), "w1", deliveryIDs(deliveries), reason)
		requireNoError(t, err, "DeadLetterDeliveries()")
		if i == 0 {
			time.Sleep(2 * time.Millisecond) // distinct dead times
		}
	}

	letters, total, err := s.FindDeadLetters(t.Context(), projectA, 0, 10)
	requireNoError(t, err, "FindDeadLetters()")
	requireEqual(t, "total", total, 2)
	requireEqual(t, "page size", len(letters), 2)
	requireEqual(t, "newest reason", letters[0].Reason, "too old")
	requireEqual(t, "newest event", letters[0].Event.EventID, "ev-001")
	requireEqual(t, "oldest event", letters[1].Event.EventID, "ev-000")
	requireEqual(t, "target", letters[0].LogStreamID, streamOne)
	requireEqual(t, "attempts", letters[0].Attempts, 1)

	page, total, err := s.FindDeadLetters(t.Context(), projectA, 1, 10)
	requireNoError(t, err, "FindDeadLetters() offset 1")
	requireEqual(t, "offset total", total, 2)
	requireEqual(t, "offset page", len(page), 1)
	other, total, err := s.FindDeadLetters(t.Context(), projectB, 0, 10)
	requireNoError(t, err, "FindDeadLetters() other project")
	requireEqual(t, "other project", len(other)+total, 0)
}

func testRequeueDeadLetters(t *testing.T, s userevents.Store) {
	queueEvents(t, s, projectA, "ev", 3)
	deliveries := lease(t, s, "w1", 3, time.Minute)
	err := s.DeadLetterDeliveries(t.Context(), "w1", deliveryIDs(deliveries), "stream deleted")
	requireNoError(t, err, "DeadLetterDeliveries()")
	letters, _, err := s.FindDeadLetters(t.Context(), projectA, 0, 10)
	requireNoError(t, err, "FindDeadLetters()")

	n, err := s.RequeueDeadLetters(t.Context(), projectA, []int64{letters[0].ID}, "", "")
	requireNoError(t, err, "RequeueDeadLetters() one")
	requireEqual(t, "moved one", n, 1)
	again := lease(t, s, "w2", 10, time.Minute)
	requireEqual(t, "requeued to original", len(again), 1)
	requireEqual(t, "original stream", again[0].LogStreamID, streamOne)
	requireEqual(t, "attempts reset", again[0].Attempts, 0)

	n, err = s.RequeueDeadLetters(t.Context(), projectA, nil, groupOne, streamTwo)
	requireNoError(t, err, "RequeueDeadLetters() all")
	requireEqual(t, "moved rest", n, 2)
	rest := lease(t, s, "w3", 10, time.Minute)
	requireEqual(t, "requeued rest", len(rest), 2)
	requireEqual(t, "new stream", rest[0].LogStreamID, streamTwo)
	requireEqual(t, "dead letters left", stats(t, s, projectA).DeadLetters, 0)
}

func testCompleteWithLogs(t *testing.T, s userevents.Store) {
	now := time.Now()
	err := s.CreateLogGroup(t.Context(), &userevents.LogGroup{ID: groupOne, ProjectID: projectA, Name: "g", TTLDays: 7, CreatedAt: now})
	requireNoError(t, err, "CreateLogGroup()")
	err = s.CreateLogStream(t.Context(), &userevents.LogStream{ID: streamOne, ProjectID: projectA, GroupID: groupOne, Name: "s", TTLDays: 7, CreatedAt: now})
	requireNoError(t, err, "CreateLogStream()")
	queueEvents(t, s, projectA, "ev", 3)
	deliveries := lease(t, s, "w1", 3, time.Minute)
	record := func(d *userevents.Delivery) *userevents.LogRecord {
		return &userevents.LogRecord{ProjectID: projectA, GroupID: groupOne, StreamID: d.LogStreamID,
			TimeNs: d.Event.EventTime.UnixNano(), Content: d.Event.EventID}
	}

	// A missing stream stores and completes nothing.
	bad := record(deliveries[0])
	bad.StreamID = streamTwo
	err = s.CompleteDeliveriesWithLogs(t.Context(), "w1", deliveryIDs(deliveries[:1]), []*userevents.LogRecord{bad})
	requireCode(t, err, userevents.ENOTFOUND)
	requireEqual(t, "pending after missing stream", stats(t, s, projectA).Pending, 3)

	// Lines of rows another owner holds are not stored.
	records := []*userevents.LogRecord{record(deliveries[0]), record(deliveries[1]), record(deliveries[2])}
	err = s.CompleteDeliveriesWithLogs(t.Context(), "w2", deliveryIDs(deliveries), records)
	requireNoError(t, err, "CompleteDeliveriesWithLogs() other owner")

	err = s.CompleteDeliveriesWithLogs(t.Context(), "w1", deliveryIDs(deliveries), records)
	requireNoError(t, err, "CompleteDeliveriesWithLogs()")
	st := stats(t, s, projectA)
	requireEqual(t, "Pending", st.Pending, 0)
	requireEqual(t, "Delivered", st.Delivered, int64(3))
	_, n, err := s.FindLogs(t.Context(), userevents.LogQuery{ProjectID: projectA, GroupID: groupOne, StreamID: streamOne,
		EndMs: time.Now().Add(48 * time.Hour).UnixMilli(), Limit: 10})
	requireNoError(t, err, "FindLogs()")
	requireEqual(t, "lines stored", n, 3)
}
