package userevents

import (
	"context"
	"time"
)

// Delivery is one queued event bound for the log stream that the
// project's LTSConfig named when the event was accepted.
type Delivery struct {
	ID          int64
	ProjectID   string
	LogGroupID  string
	LogStreamID string
	Event       *Event
	Attempts    int
	QueuedAt    time.Time
	LastError   string
}

// DeadLetter is a delivery that can never succeed as it is, kept with the
// reason so that an operator can act on it.
type DeadLetter struct {
	Delivery
	Reason string
	DeadAt time.Time
}

// DeliveryStats is the delivery state of one project.
type DeliveryStats struct {
	ProjectID     string
	Pending       int
	OldestPending time.Time // zero when nothing is pending
	Delivered     int64
	Failed        int64 // failed attempts, retried or dead-lettered
	DeadLetters   int
	LastError     string
	LastErrorAt   time.Time
	// NextAttempt is the earliest time a pending delivery that no worker
	// holds is due; a time in the future means delivery is paused after a
	// failure.
	NextAttempt time.Time
}

// OutboxStore is the transactional outbox between intake and delivery.
// A worker leases deliveries, sends them, then completes, retries or
// dead-letters them; a lease that expires makes its deliveries due again,
// so a worker that dies loses nothing.
type OutboxStore interface {
	// LeaseDeliveries leases up to limit due deliveries that share one
	// target stream, oldest first, to owner until now+lease. It returns an
	// empty slice when nothing is due.
	LeaseDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]*Delivery, error)

	// CompleteDeliveries removes delivered rows held by owner and counts
	// them as delivered.
	CompleteDeliveries(ctx context.Context, owner string, ids []int64) error

	// CompleteDeliveriesWithLogs stores the built-in LTS lines of
	// deliveries and completes those deliveries in one transaction, so a
	// crash never leaves a line stored while its delivery is still queued.
	// records[i] is the line of delivery ids[i]; lines of deliveries that
	// owner no longer holds are not stored. It returns ENOTFOUND, storing
	// and completing nothing, when a line's stream does not exist.
	CompleteDeliveriesWithLogs(ctx context.Context, owner string, ids []int64, records []*LogRecord) error

	// RetryDeliveries releases rows held by owner, due again at next, and
	// records the error. Every other queued row of the same target that
	// would be due before next waits until next too, so a failing stream
	// is paused as a whole instead of being tried batch after batch, and
	// its oldest rows go first when it recovers.
	RetryDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, reason string) error

	// DeadLetterDeliveries moves rows held by owner to the dead letters
	// with the reason.
	DeadLetterDeliveries(ctx context.Context, owner string, ids []int64, reason string) error

	// FindDeliveryStats returns the delivery state of a project.
	FindDeliveryStats(ctx context.Context, projectID string) (*DeliveryStats, error)

	// RetargetDeliveries moves every queued delivery of the project bound
	// for one stream to another, releasing leases and making them due
	// now. It returns how many moved. The delivery worker calls it when a
	// stream is gone and the configuration names a new one.
	RetargetDeliveries(ctx context.Context, projectID, fromGroupID, fromStreamID, toGroupID, toStreamID string) (int, error)

	// FindDeadLetters returns one page of a project's dead letters, newest
	// first, and their total number.
	FindDeadLetters(ctx context.Context, projectID string, offset, limit int) ([]*DeadLetter, int, error)

	// RequeueDeadLetters moves dead letters of a project back to the
	// outbox, due now with no attempts, bound for the given group and
	// stream, or for their original ones when both are empty. Empty ids
	// means all of the project's dead letters. It returns how many moved.
	RequeueDeadLetters(ctx context.Context, projectID string, ids []int64, groupID, streamID string) (int, error)

	// DeliveryBacklog returns the number of queued deliveries of every
	// project and when the oldest was queued (zero when none is).
	DeliveryBacklog(ctx context.Context) (int, time.Time, error)

	// NextDeliveryDue returns when the earliest queued delivery becomes
	// due, and false when the outbox is empty.
	NextDeliveryDue(ctx context.Context) (time.Time, bool, error)
}
