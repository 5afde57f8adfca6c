package etl

// The transform step: the models of sql/ (staging, intermediate, marts) in
// dependency order, each one table of the build.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
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
	if err := transform(ctx, p.builder, p.res, p.log, p.opt.OnStep); err != nil {
		return nil, err
	}
	return []any{"models_kept", p.res.ModelsKept, "months_built", p.res.MonthsBuilt, "months_kept", p.res.MonthsKept}, nil
}

// transform builds every model of sql/ in dependency order, keeping from
// the live schema what b finds unchanged (see monthly.go).
func transform(ctx context.Context, b *builder, res *Result, log *slog.Logger, onStep func(Step)) error {
	models, err := uptakesql.Models()
	if err != nil {
		return err
	}
	conn := b.conn
	// Parts hold no run's time: a model's view gives its published_at
	// column the run's (see publishedAt).
	if _, err := conn.ExecContext(ctx, "SET VARIABLE published_at = NULL::TIMESTAMP"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SET VARIABLE published_at = "+b.vars["published_at"])
	for _, m := range models {
		t0 := time.Now()
		how, err := b.build(ctx, m)
		if err != nil {
			return err
		}
		n, err := sqltext.Count(ctx, conn, m.Name)
		if err != nil {
			return err
		}
		if m.Layer == "marts" {
			res.RowsOut[m.Name] = n
			res.Outputs = append(res.Outputs, m.Name)
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
	}
	return nil
}
