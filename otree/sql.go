package otree

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// Requests run their hot SQL through runners. On SQLite, statements are
// prepared once per connection and reused: every writing transaction runs
// on one dedicated connection, so a statement prepared there serves every
// request. (Preparing inside each transaction, as gorm's prepared-statement
// mode does, makes SQLite parse each statement again on every request.) On
// Postgres, pgx caches prepared statements per connection by itself.

// A preparer is a *sql.DB or a *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// stmtCache holds statements prepared on one connection or pool.
type stmtCache struct {
	on    preparer
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(on preparer) *stmtCache {
	return &stmtCache{on: on, stmts: map[string]*sql.Stmt{}}
}

// get returns the statement for q, preparing it on first use.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st, nil
	}
	st, err := c.on.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil, err
	}
	c.stmts[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// A queryer runs SQL text: a *sql.Tx or a *sql.DB.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// A runner runs a request's SQL, written with ? placeholders: through
// cached statements when cache is set (SQLite), else as text on db with
// placeholders numbered for Postgres.
type runner struct {
	ctx   context.Context
	db    queryer
	cache *stmtCache
}

func (r runner) query(q string, args ...any) (*sql.Rows, error) {
	if r.cache != nil {
		st, err := r.cache.get(r.ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(r.ctx, args...)
	}
	return r.db.QueryContext(r.ctx, numbered(q), args...)
}

// execCount runs a statement and returns the number of rows it changed.
func (r runner) execCount(q string, args ...any) (int64, error) {
	var res sql.Result
	var err error
	if r.cache != nil {
		var st *sql.Stmt
		if st, err = r.cache.get(r.ctx, q); err != nil {
			return 0, err
		}
		res, err = st.ExecContext(r.ctx, args...)
	} else {
		res, err = r.db.ExecContext(r.ctx, numbered(q), args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (r runner) exec(q string, args ...any) error {
	if r.cache != nil {
		st, err := r.cache.get(r.ctx, q)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(r.ctx, args...)
		return err
	}
	_, err := r.db.ExecContext(r.ctx, numbered(q), args...)
	return err
}

// scalar runs a query that returns one value into dst.
func (r runner) scalar(dst any, q string, args ...any) error {
	rows, err := r.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dst); err != nil {
		return err
	}
	return rows.Close()
}

// numberedQueries caches numberPlaceholders, as the same statements recur.
var numberedQueries sync.Map

// numbered rewrites ? placeholders as $1, $2, … for Postgres.
func numbered(q string) string {
	if v, ok := numberedQueries.Load(q); ok {
		return v.(string)
	}
	n := numberPlaceholders(q)
	numberedQueries.Store(q, n)
	return n
}

// numberPlaceholders rewrites ? placeholders as $1, $2, …, leaving
// question marks inside quoted strings and identifiers alone.
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}
