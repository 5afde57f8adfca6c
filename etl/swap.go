package etl

// The swap step: every destination has the run's tables, and the warehouse
// follows. The build schema becomes live and the sources' watermarks move,
// in one transaction; then the parts and files no live table reads go.

import (
	"context"
	"fmt"

	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// swapStep makes the build live, whatever signal comes now: the
// destinations already have its tables.
func swapStep(ctx context.Context, p *pipeline) ([]any, error) {
	ctx = context.WithoutCancel(ctx)
	// Watermarks move with the data: in the swap's transaction.
	var marks []string
	for _, w := range p.ex.Windows {
		mark := w.To
		if !w.Watermark.IsZero() {
			mark = w.Watermark
		}
		// Never backwards: a backfill or a --from/--to re-pull of older days
		// leaves the nightly runs where they were.
		marks = append(marks, fmt.Sprintf(`INSERT INTO main.watermarks VALUES (%s, DATE %s, now())
			ON CONFLICT (source) DO UPDATE SET last_day = greatest(last_day, excluded.last_day), updated_at = excluded.updated_at`,
			sqltext.Quote(w.Name), sqltext.Quote(mark.Format("2006-01-02"))))
	}
	if err := warehouse.Swap(ctx, p.conn, p.build, p.live, append(marks, p.builder.liveState()...)...); err != nil {
		return nil, err
	}
	// The live tables read only what this run kept: the rest may go.
	if err := p.builder.collect(ctx); err != nil {
		p.log.Warn("the warehouse keeps model parts no run needs any more; the next run tries again", "error", err)
	}
	if err := p.files.Collect(ctx); err != nil {
		p.log.Warn("the file cache keeps files no run needs any more; the next run tries again", "error", err)
	}
	return []any{"live", p.build}, nil
}
