package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3/lock"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/postgres"
)

const (
	testProject = "0123456789abcdef0123456789abcdef"
	testGroup   = "11111111-1111-4111-8111-111111111111"
	testStream  = "22222222-2222-4222-8222-222222222222"
)

// newEvents returns n LOGIN events with ids prefix-000000 and onwards, a
// millisecond apart from at.
func newEvents(prefix string, n int, at time.Time) []*userevents.Event {
	events := make([]*userevents.Event, n)
	for i := range events {
		events[i] = &userevents.Event{
			EventID:   fmt.Sprintf("%s-%06d", prefix, i),
			Username:  "u-alice",
			EventType: "LOGIN",
			EventTime: at.Add(time.Duration(i) * time.Millisecond),
		}
	}
	return events
}

// enableDelivery points the test project's delivery at the test stream.
func enableDelivery(t testing.TB, db *postgres.DB) {
	t.Helper()
	err := db.SetLTSConfig(context.Background(), &userevents.LTSConfig{
		ProjectID: testProject, Enabled: true, LogGroupID: testGroup, LogStreamID: testStream,
	})
	if err != nil {
		t.Fatalf("SetLTSConfig() error = %v", err)
	}
}

func TestMigrationConcurrentOpen(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	const replicas = 5
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	dbs := make([]*postgres.DB, replicas)
	for i := range replicas {
		wg.Go(func() {
			dbs[i], errs[i] = postgres.Open(context.Background(), url, testSealer(t), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open() of replica %d error = %v", i, err)
			continue
		}
		dbs[i].Close()
	}

	// Each migration must be recorded once: a second replica that applied
	// it again would have failed or added a row.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("list migrations: %v, %d files", err, len(files))
	}
	applied := query[int64](t, url, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`)
	distinct := query[int64](t, url, `SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`)
	if applied != int64(len(files)) || distinct != applied {
		t.Errorf("goose_db_version holds %d migration rows of %d versions, want %d of %d",
			applied, distinct, len(files), len(files))
	}
	db := openDB(t, url)
	n, err := db.CreateEvents(t.Context(), testProject, newEvents("after", 3, time.Now()))
	if err != nil || n != 3 {
		t.Fatalf("CreateEvents() after concurrent migration = %d, %v; want 3, nil", n, err)
	}
}

func TestMigrationSchemasIndependent(t *testing.T) {
	t.Parallel()
	// Another deployment in the same database holds goose's default
	// migration lock; a store in its own schema must not wait for it.
	base := databaseURL(t)
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		t.Fatalf("take goose's default lock: %v", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lock.DefaultLockID)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, newSchema(t), testSealer(t), nil)
	if err != nil {
		t.Fatalf("Open() while goose's default lock is held: %v", err)
	}
	db.Close()
}

func TestTwoStoresLeaseDisjoint(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	a, b := openDB(t, url), openDB(t, url)
	enableDelivery(t, a)
	const total = 2000
	at := time.Now().UTC().Add(-time.Hour)
	for i := 0; i < total; i += 500 {
		events := newEvents(fmt.Sprintf("lease-%d", i), 500, at)
		if _, err := a.CreateEvents(t.Context(), testProject, events); err != nil {
			t.Fatalf("CreateEvents() error = %v", err)
		}
	}

	// Four workers, two per store, lease small batches until the outbox
	// has nothing due. No worker completes, so every lease stays valid and
	// each delivery may be leased exactly once.
	var mu sync.Mutex
	leasedBy := map[int64]string{}
	var duplicates []string
	var wg sync.WaitGroup
	for i, db := range []*postgres.DB{a, b, a, b} {
		owner := fmt.Sprintf("worker-%d", i)
		wg.Go(func() {
			for {
				batch, err := db.LeaseDeliveries(context.Background(), owner, 37, time.Hour)
				if err != nil {
					t.Errorf("LeaseDeliveries(%s) error = %v", owner, err)
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				for _, d := range batch {
					if prev, ok := leasedBy[d.ID]; ok {
						duplicates = append(duplicates, fmt.Sprintf("%d by %s and %s", d.ID, prev, owner))
					}
					leasedBy[d.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if len(duplicates) > 0 {
		t.Fatalf("%d deliveries leased twice while their leases were valid, such as %s",
			len(duplicates), duplicates[0])
	}
	if len(leasedBy) != total {
		t.Fatalf("deliveries leased = %d, want %d", len(leasedBy), total)
	}
	perOwner := map[string]int{}
	for _, owner := range leasedBy {
		perOwner[owner]++
	}
	if len(perOwner) < 2 {
		t.Errorf("leases by owner = %v, want the work spread over several workers", perOwner)
	}
}

func TestLeaseTakeoverAcrossStores(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	dead, live := openDB(t, url), openDB(t, url)
	enableDelivery(t, dead)
	if _, err := dead.CreateEvents(t.Context(), testProject, newEvents("takeover", 5, time.Now())); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}

	held, err := dead.LeaseDeliveries(t.Context(), "dead-replica", 10, 300*time.Millisecond)
	if err != nil || len(held) != 5 {
		t.Fatalf("LeaseDeliveries() by the first replica = %d deliveries, %v; want 5", len(held), err)
	}
	early, err := live.LeaseDeliveries(t.Context(), "live-replica", 10, time.Minute)
	if err != nil {
		t.Fatalf("LeaseDeliveries() before expiry error = %v", err)
	}
	if len(early) != 0 {
		t.Fatalf("LeaseDeliveries() before expiry = %d deliveries, want 0", len(early))
	}

	// The first replica "dies" holding its lease; after expiry the other
	// one takes the same rows over.
	time.Sleep(400 * time.Millisecond)
	taken, err := live.LeaseDeliveries(t.Context(), "live-replica", 10, time.Minute)
	if err != nil || len(taken) != 5 {
		t.Fatalf("LeaseDeliveries() after expiry = %d deliveries, %v; want 5", len(taken), err)
	}
	for i := range taken {
		if taken[i].ID != held[i].ID {
			t.Errorf("delivery %d taken over = id %d, want %d", i, taken[i].ID, held[i].ID)
		}
	}

	// A late confirmation by the dead owner changes nothing.
	if err := dead.CompleteDeliveries(t.Context(), "dead-replica", ids(held)); err != nil {
		t.Fatalf("CompleteDeliveries() by the old owner error = %v", err)
	}
	if err := live.CompleteDeliveries(t.Context(), "live-replica", ids(taken)); err != nil {
		t.Fatalf("CompleteDeliveries() error = %v", err)
	}
	st, err := dead.FindDeliveryStats(t.Context(), testProject)
	if err != nil {
		t.Fatalf("FindDeliveryStats() error = %v", err)
	}
	if st.Pending != 0 || st.Delivered != 5 {
		t.Errorf("stats after takeover: Pending = %d, Delivered = %d; want 0 and 5", st.Pending, st.Delivered)
	}
}

func TestConcurrentIntakeSharedIDs(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	a, b := openDB(t, url), openDB(t, url)
	enableDelivery(t, a)
	at := time.Now().UTC().Add(-time.Minute)

	// Eight batches over two stores, each with the same 400 ids in another
	// order, race to store them. Each id must be stored and queued once,
	// and no batch may fail with a deadlock.
	const ids = 400
	var wg sync.WaitGroup
	stored := make([]int, 8)
	for i := range stored {
		db := []*postgres.DB{a, b}[i%2]
		wg.Go(func() {
			events := newEvents("shared", ids, at)
			for j := range events {
				k := (j*7 + i*13) % ids
				events[j], events[k] = events[k], events[j]
			}
			n, err := db.CreateEvents(context.Background(), testProject, events)
			if err != nil {
				t.Errorf("CreateEvents() of batch %d error = %v", i, err)
			}
			stored[i] = n
		})
	}
	wg.Wait()

	sum := 0
	for _, n := range stored {
		sum += n
	}
	if sum != ids {
		t.Errorf("events stored by all batches = %d (%v), want %d", sum, stored, ids)
	}
	_, total, err := b.FindEvents(t.Context(), userevents.EventFilter{
		ProjectID: testProject, Start: at.Add(-time.Hour), End: at.Add(time.Hour),
	})
	if err != nil || total != ids {
		t.Errorf("FindEvents() total = %d, %v; want %d", total, err, ids)
	}
	st, err := b.FindDeliveryStats(t.Context(), testProject)
	if err != nil || st.Pending != ids {
		t.Errorf("queued deliveries = %d, %v; want %d", st.Pending, err, ids)
	}
}

func TestIdentitySharedAtOnce(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	a, b := openDB(t, url), openDB(t, url)
	ctx := t.Context()
	account := &userevents.Account{Name: "shared"}
	if err := a.CreateAccount(ctx, account); err != nil {
		t.Fatalf("CreateAccount() error = %v", err)
	}
	user := &userevents.User{AccountID: account.ID, Name: "shared", Root: true, Enabled: true}
	if err := a.CreateUser(ctx, user); err != nil {
		t.Fatalf("CreateUser() error = %v", err)
	}
	key := &userevents.AccessKey{ID: "AKSHAREDEXAMPLE00001", Secret: "sk-shared",
		UserID: user.ID, AccountID: account.ID, Enabled: true}
	if err := a.CreateAccessKey(ctx, key); err != nil {
		t.Fatalf("CreateAccessKey() error = %v", err)
	}

	got, err := b.FindAccessKey(ctx, key.ID)
	if err != nil {
		t.Fatalf("FindAccessKey() through the other store error = %v", err)
	}
	if string(got.Secret) != "sk-shared" {
		t.Errorf("secret through the other store = %q, want %q", string(got.Secret), "sk-shared")
	}
	err = b.CreateAccessKey(ctx, &userevents.AccessKey{ID: key.ID, Secret: "x",
		UserID: user.ID, AccountID: account.ID})
	if code := userevents.ErrorCode(err); code != userevents.ECONFLICT {
		t.Errorf("CreateAccessKey() of a taken AK through the other store: code %q, want %q",
			code, userevents.ECONFLICT)
	}

	cfg := &userevents.LTSConfig{ProjectID: testProject, Enabled: true,
		LogGroupID: testGroup, LogStreamID: testStream}
	if err := b.SetLTSConfig(ctx, cfg); err != nil {
		t.Fatalf("SetLTSConfig() error = %v", err)
	}
	if _, err := a.CreateEvents(ctx, testProject, newEvents("cfg", 1, time.Now())); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	st, err := a.FindDeliveryStats(ctx, testProject)
	if err != nil || st.Pending != 1 {
		t.Errorf("deliveries queued after a config change through the other store = %d, %v; want 1",
			st.Pending, err)
	}
}

func ids(deliveries []*userevents.Delivery) []int64 {
	out := make([]int64, len(deliveries))
	for i, d := range deliveries {
		out[i] = d.ID
	}
	return out
}

func TestOpenRejectsOtherSealingKey(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	openDB(t, url)
	other, err := keyring.New(bytes.Repeat([]byte{0x17}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(t.Context(), url, other, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open() with another sealing key succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "secret key differs") {
		t.Errorf("Open() error = %v, want it to say that the secret key differs", err)
	}
}
