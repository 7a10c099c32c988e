package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds prepared statements of the read pool by query text.
// Preparing a statement costs more than running the small lookups that
// authenticate every request, so the hot single-row queries are prepared
// once. Only constant query texts go through it, which bounds its size.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// queryRow runs a constant single-row query on the read pool through a
// cached prepared statement.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, err := db.stmt(ctx, query)
	if err != nil {
		// Let the caller see the error through Scan, as with QueryRowContext.
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if s, ok := db.stmts.stmts[query]; ok {
		return s, nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts.stmts == nil {
		db.stmts.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts.stmts[query] = s
	return s, nil
}

// closeStmts closes the cached statements; Close calls it.
func (db *DB) closeStmts() {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	for _, s := range db.stmts.stmts {
		s.Close()
	}
	db.stmts.stmts = nil
}

// cachedReads is a querier whose single-row queries use the statement
// cache of the read pool.
type cachedReads struct{ db *DB }

func (c cachedReads) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.db.queryRow(ctx, query, args...)
}
