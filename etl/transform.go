package etl

// The transform step: the models of sql/ (staging, intermediate, marts) in
// dependency order, each one table of the build.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// execModel runs one DDL file of a layer (contract tables).
func execModel(ctx context.Context, conn *sql.Conn, layer, name string) error {
	models, err := uptakesql.Contract()
	if err != nil {
		return err
	}
	m, ok := uptakesql.Named(models, name)
	if !ok {
		return fmt.Errorf("sql: no %s/%s.sql", layer, name)
	}
	if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("%s/%s.sql: %w", layer, name, err)
	}
	return nil
}

// transformStep builds the models.
func transformStep(ctx context.Context, p *pipeline) ([]any, error) {
	if err := transform(ctx, p.db, p.conn, p.builder, p.res, p.log, p.opt.OnStep); err != nil {
		return nil, err
	}
	return []any{"models_kept", p.res.ModelsKept, "months_built", p.res.MonthsBuilt, "months_kept", p.res.MonthsKept}, nil
}

// transformWorkers is how many models the transform builds at once. Most
// of a small model's statements (a month, a view, a count: about a
// millisecond each) keep one core busy, and the models form a graph as
// wide as it is long (the bundled sample's 36 models: 0.5 s of builds on
// a longest path of 0.17 s); a large model's statements keep every core
// busy already. Two: the second connection costs its share of DuckDB's
// memory limit, not a core's worth of speed past two.
const transformWorkers = 2

// transform builds every model of sql/ in dependency order, keeping from
// the live schema what b finds unchanged (see monthly.go). Given the
// warehouse (db), it builds up to transformWorkers models at once, each
// once its inputs are built, the first of them in the order of sql/ first,
// on connections of their own; without, one at a time, on conn, the run's
// connection. A failed model stops the others at their next statement; the
// error is the first model's to fail.
func transform(ctx context.Context, db *sql.DB, conn *sql.Conn, b *builder, res *Result, log *slog.Logger, onStep func(Step)) error {
	models, err := uptakesql.Models()
	if err != nil {
		return err
	}
	// Parts hold no run's time: a model's view gives its published_at
	// column the run's (see publishedAt).
	if _, err := conn.ExecContext(ctx, "SET VARIABLE published_at = NULL::TIMESTAMP"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SET VARIABLE published_at = "+b.vars["published_at"])
	conns := []*sql.Conn{conn}
	for db != nil && len(conns) < transformWorkers {
		c, err := workerConn(ctx, db, b)
		if err != nil {
			return err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	s := newBuildOrder(models)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range conns {
		w := &builder{conn: turnTaker{c, &s.mu}, buildState: b.buildState}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(func(m uptakesql.Model) error {
				err := buildModel(ctx, w, m, res, log, onStep)
				if err != nil {
					cancel()
				}
				return err
			})
		}()
	}
	wg.Wait()
	if s.err != nil {
		return s.err
	}
	for _, m := range models { // in the order of sql/, whatever the order they were built in
		if m.Layer == "marts" {
			res.Outputs = append(res.Outputs, m.Name)
		}
	}
	return nil
}

// workerConn opens a connection to the warehouse that builds models as the
// run's does: in the build schema, with the run's variables.
func workerConn(ctx context.Context, db *sql.DB, b *builder) (*sql.Conn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	stmts := []string{"SET search_path = " + sqltext.Quote(b.schema+",main")}
	for _, name := range slices.Sorted(maps.Keys(b.vars)) {
		stmts = append(stmts, fmt.Sprintf("SET VARIABLE %s = %s", name, b.vars[name]))
	}
	stmts = append(stmts, "SET VARIABLE published_at = NULL::TIMESTAMP")
	for _, q := range stmts {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, fmt.Errorf("warehouse: %s: %w", q, err)
		}
	}
	return c, nil
}

// buildModel builds one model, counts its rows and logs it.
func buildModel(ctx context.Context, b *builder, m uptakesql.Model, res *Result, log *slog.Logger, onStep func(Step)) error {
	t0 := time.Now()
	how, err := b.build(ctx, m)
	if err != nil {
		return err
	}
	n, err := sqltext.Count(ctx, b.conn, m.Name)
	if err != nil {
		return err
	}
	if m.Layer == "marts" {
		res.RowsOut[m.Name] = n
	}
	res.MonthsBuilt += how.rebuilt
	res.MonthsKept += how.kept
	if how.copied {
		res.ModelsKept++
	}
	attrs := []any{"step", "transform", "table", m.Name, "rows", n}
	switch {
	case how.copied:
		attrs = append(attrs, "kept", true)
	case m.Month != "":
		attrs = append(attrs, "months_kept", how.kept, "months_built", how.rebuilt)
	}
	log.Info("built", append(attrs, "duration", took(t0))...)
	onStep(Step{Name: "transform", Table: m.Name, Rows: n})
	return nil
}
