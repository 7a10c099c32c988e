package userevents

import "context"

// Store is everything a userevents process keeps: one database shared by
// every listener and worker, and by every replica on PostgreSQL.
type Store interface {
	EventStore
	LTSConfigStore
	LogStore
	OutboxStore
	IdentityStore
	IAMStore

	// Ping checks that the database responds; readiness probes call it.
	Ping(ctx context.Context) error
	Close() error
}
