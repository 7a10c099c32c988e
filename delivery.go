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

	// RetryDeliveries releases rows held by owner, due again at next, and
	// records the error.
	RetryDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, reason string) error

	// DeadLetterDeliveries moves rows held by owner to the dead letters
	// with the reason.
	DeadLetterDeliveries(ctx context.Context, owner string, ids []int64, reason string) error

	// FindDeliveryStats returns the delivery state of a project.
	FindDeliveryStats(ctx context.Context, projectID string) (*DeliveryStats, error)

	// NextDeliveryDue returns when the earliest queued delivery becomes
	// due, and false when the outbox is empty.
	NextDeliveryDue(ctx context.Context) (time.Time, bool, error)
}
