package etl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

// publishStep publishes the outputs to every destination: each is planned,
// then prepared, and only then committed, remote ones first. Until the
// commits a stop stops the run and what was prepared is discarded (by the
// run, in any case); from the commits on, a stop waits for them and for the
// swap, unless Options.Abandon says otherwise.
func publishStep(ctx context.Context, p *pipeline) ([]any, error) {
	p.checkpointed = checkpointBeside(ctx, p.db, p.log)
	res, cfg := p.res, p.opt.Config
	settings := cfg.KPI.Settings()
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		return nil, err
	}
	out := connectors.Published{Tables: res.Outputs, RowsOut: res.RowsOut, Rejects: res.Rejected, Warnings: res.Warnings,
		Docs: schema.Docs(settings), Settings: settings, WindowStart: res.WindowStart, WindowEnd: res.WindowEnd}
	p.pubs, err = planAndPrepare(ctx, p.conn, p.plugins, p.run, out, p.log)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The commits write to the warehouse (the run's progress between two
	// destinations): after the checkpoint, which the preparing overlapped.
	p.waitCheckpoint()
	pubCtx := context.WithoutCancel(ctx)
	if p.opt.Abandon != nil {
		pubCtx = backoff.WithLogger(p.opt.Abandon, p.log) // the commits' retries are logged with the run's id
	}
	res.publishing = true
	if err := commit(pubCtx, p.conn, p.pubs, res, p.log, p.opt.OnStep); err != nil {
		if pubCtx.Err() != nil {
			return nil, fmt.Errorf("publish abandoned (each destination is all or nothing): %w", err)
		}
		return nil, err
	}
	return []any{"destinations", len(res.Published)}, nil
}

// publication is one destination's share of the run's publish.
type publication struct {
	name string
	pub  connectors.Publication
}

// planAndPrepare runs the first two phases of the publish across every
// destination: every Plan (checks: credentials, reachability, permissions,
// limits, the shrink guard; nothing changes), then every Prepare (each
// destination writes beside what its readers see). A failure here changes
// nothing anywhere; the caller discards the publications in any case.
// The publications come back in commit order: remote destinations first,
// local files last.
func planAndPrepare(ctx context.Context, conn *sql.Conn, p *plugins, run connectors.Run, out connectors.Published, log *slog.Logger) ([]publication, error) {
	var pubs []publication
	var errs []error
	for i, dst := range p.dests {
		t0 := time.Now()
		pub, err := dst.Plan(ctx, conn, run, out)
		if err != nil {
			errs = append(errs, fmt.Errorf("destination %s: %w", p.destNames[i], err))
			continue
		}
		log.Info("planned", "step", "publish", "destination", p.destNames[i], "duration", took(t0))
		pubs = append(pubs, publication{name: p.destNames[i], pub: pub})
	}
	pubs = commitOrder(pubs, p)
	if len(errs) > 0 {
		return pubs, fmt.Errorf("%w\nNothing was published: every destination is checked before any is changed", errors.Join(errs...))
	}
	for _, d := range pubs {
		t0 := time.Now()
		if err := d.pub.Prepare(ctx); err != nil {
			return pubs, fmt.Errorf("destination %s: %w\nNothing was published: the destinations were being prepared, none had changed", d.name, err)
		}
		log.Info("prepared", "step", "publish", "destination", d.name, "duration", took(t0))
	}
	return pubs, nil
}

// commitOrder puts local destinations after every remote one, keeping the
// config's order otherwise: out/ never shows a run a remote destination
// refused.
func commitOrder(pubs []publication, p *plugins) []publication {
	local := map[string]bool{}
	for i, dst := range p.dests {
		if l, ok := dst.(connectors.Local); ok && l.Local() {
			local[p.destNames[i]] = true
		}
	}
	var remote, last []publication
	for _, d := range pubs {
		if local[d.name] {
			last = append(last, d)
		} else {
			remote = append(remote, d)
		}
	}
	return append(remote, last...)
}

// commit runs the last phase: each destination makes its prepared outputs
// visible, remote ones first. A failure after some commits names the
// destinations that have the new tables and those that keep the previous
// ones; the run fails, and the next run publishes to every destination
// again.
func commit(ctx context.Context, conn *sql.Conn, pubs []publication, res *Result, log *slog.Logger, onStep func(Step)) error {
	for i, d := range pubs {
		t0 := time.Now()
		err := ctx.Err() // abandoned (a second signal): the next destination is not committed
		if err == nil {
			err = d.pub.Commit(ctx)
		}
		if err != nil {
			rest := pubs[i:]
			if committed := (*connectors.CommittedError)(nil); errors.As(err, &committed) {
				// Its outputs are visible: only the destinations after it keep the previous tables.
				res.Published = append(res.Published, d.name)
				rest = pubs[i+1:]
			}
			return commitFailure(d.name, err, rest, res)
		}
		res.Published = append(res.Published, d.name)
		recordProgress(ctx, conn, res, pubs[i+1:], log)
		log.Info("published", "step", "publish", "destination", d.name, "tables", len(res.Outputs), "duration", took(t0))
		onStep(Step{Name: "publish", Table: d.name, Rows: sum(res.RowsOut)})
	}
	return nil
}

// commitFailure is the error of a failed commit: it names the destinations
// that have the run's tables and those that keep the previous ones.
func commitFailure(name string, err error, rest []publication, res *Result) error {
	res.NotPublished = append(res.NotPublished, names(rest)...)
	switch {
	case len(res.Published) == 0:
		return fmt.Errorf("destination %s: %w\nNothing was published", name, err)
	case len(res.NotPublished) == 0:
		return fmt.Errorf("destination %s: %w\nPublished to %s", name, err, strings.Join(res.Published, ", "))
	}
	return fmt.Errorf("destination %s: %w\nPublished to %s; not to %s, which keep the previous run's tables until the next run publishes again",
		name, err, strings.Join(res.Published, ", "), strings.Join(res.NotPublished, ", "))
}

// recordProgress notes in the run's row which destinations have the run
// and which do not yet: a process killed between two commits leaves it,
// and the next run's "interrupted" names them (the run's end replaces it).
func recordProgress(ctx context.Context, conn *sql.Conn, res *Result, rest []publication, log *slog.Logger) {
	if len(rest) == 0 {
		return
	}
	note := fmt.Sprintf("after publishing to %s, not to %s, which kept the previous run's tables", strings.Join(res.Published, ", "), strings.Join(names(rest), ", "))
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `UPDATE main.runs SET error = ? WHERE run_id = ?`, note, res.RunID); err != nil {
		log.Warn("could not record the publish's progress", "error", err)
	}
}

// names lists the publications' destination names.
func names(pubs []publication) []string {
	var out []string
	for _, p := range pubs {
		out = append(out, p.name)
	}
	return out
}

// discard removes what the publications prepared and did not commit.
func discard(ctx context.Context, pubs []publication) {
	for _, d := range pubs {
		d.pub.Discard(context.WithoutCancel(ctx))
	}
}

// checkpointBeside checkpoints the warehouse on a connection of its own
// while the publish prepares, and returns a function that waits for it: the
// build's tables are all written by then, and the publish only reads them,
// so the checkpoint the warehouse makes as it closes (one a run, see
// warehouse.Open) has little left to write. A checkpoint DuckDB refuses
// (another write under way) is left to the close. Without the warehouse
// (db nil), nothing is done.
func checkpointBeside(ctx context.Context, db *sql.DB, log *slog.Logger) func() {
	if db == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := context.WithoutCancel(ctx) // a stop waits for it, as the close would
		t0 := time.Now()
		c, err := db.Conn(ctx)
		if err == nil {
			defer c.Close()
			_, err = c.ExecContext(ctx, "CHECKPOINT")
		}
		if err != nil {
			log.Debug("checkpoint left to the close", "step", "publish", "error", err)
			return
		}
		log.Debug("checkpointed", "step", "publish", "duration", took(t0))
	}()
	return func() { <-done }
}
