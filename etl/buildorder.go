package etl

// The order the transform's workers build models in, and the turns they
// take with the builder's state.

import (
	"context"
	"database/sql"
	"sync"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// buildOrder hands the models to the transform's workers: each, once every
// model it reads is built, to the first worker free, the first of them in
// the order of sql/ first. Its lock is the builder's state's too: a worker
// holds it but while DuckDB runs one of its statements (turnTaker), so the
// builds' Go code, their bookkeeping and logs run one at a time, and only
// their SQL at once.
type buildOrder struct {
	mu     sync.Mutex
	ready  *sync.Cond
	models []uptakesql.Model
	index  map[string]int
	state  []modelState
	err    error // the first build's to fail: no model is started after it
}

type modelState int

const (
	waiting modelState = iota
	building
	done
)

func newBuildOrder(models []uptakesql.Model) *buildOrder {
	s := &buildOrder{models: models, index: map[string]int{}, state: make([]modelState, len(models))}
	s.ready = sync.NewCond(&s.mu)
	for i, m := range models {
		s.index[m.Name] = i
	}
	return s
}

// work builds models with build, holding s.mu, until none is left to
// start or a build failed.
func (s *buildOrder) work(build func(uptakesql.Model) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		i, left := s.next()
		switch {
		case s.err != nil || !left:
			return
		case i < 0:
			s.ready.Wait() // until a build ends
			continue
		}
		s.state[i] = building
		err := build(s.models[i])
		if err != nil && s.err == nil {
			s.err = err
		}
		s.state[i] = done
		s.ready.Broadcast()
	}
}

// next is the first waiting model whose inputs are built (-1: none yet),
// and whether any model is waiting.
func (s *buildOrder) next() (int, bool) {
	left := false
	for i, m := range s.models {
		if s.state[i] != waiting {
			continue
		}
		left = true
		if s.inputsBuilt(m) {
			return i, true
		}
	}
	return -1, left
}

func (s *buildOrder) inputsBuilt(m uptakesql.Model) bool {
	for _, d := range m.Deps {
		if j, ok := s.index[d]; ok && s.state[j] != done {
			return false
		}
	}
	return true
}

// turnTaker is a worker's connection: it gives up the buildOrder's lock
// while DuckDB runs a statement, and takes it back before returning. Rows a
// query returns are read holding it.
type turnTaker struct {
	conn *sql.Conn
	mu   *sync.Mutex
}

func (t turnTaker) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.mu.Unlock()
	defer t.mu.Lock()
	return t.conn.ExecContext(ctx, query, args...)
}

func (t turnTaker) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.mu.Unlock()
	defer t.mu.Lock()
	return t.conn.QueryContext(ctx, query, args...)
}

func (t turnTaker) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.mu.Unlock()
	defer t.mu.Lock()
	return t.conn.QueryRowContext(ctx, query, args...)
}
