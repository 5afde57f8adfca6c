package bigquery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// Plan checks, without changing anything, that the run can be published:
// the credentials are valid and the dataset readable (a dataset that does
// not exist yet is created by Prepare), its settings keep published data,
// every published table can take the new schema, and no table shrinks past
// the guard. It also notes staging tables left by killed runs (Prepare
// drops them).
func (d *Destination) Plan(ctx context.Context, conn *sql.Conn, run connectors.Run, out connectors.Published) (connectors.Publication, error) {
	c, err := d.client(ctx)
	if err != nil {
		return nil, err
	}
	p := &publication{d: d, c: c, conn: conn, run: run, out: out}
	if err := p.plan(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return p, nil
}

// publication is one run's publish to the dataset.
type publication struct {
	d    *Destination
	c    *bq.Client
	conn *sql.Conn
	run  connectors.Run
	out  connectors.Published
	// datasetExists is false when Prepare must create the dataset.
	datasetExists bool
	// want is the rows each table holds in scope once published (read back
	// after the commit).
	want map[string]int64
	// leftovers are staging tables of killed runs, dropped by Prepare.
	leftovers []string
	loaded    []staged
	dir       string // the Parquet files of the loads
}

func (p *publication) plan(ctx context.Context) error {
	md, err := p.datasetMetadata(ctx)
	switch {
	case err != nil:
		return p.d.explain(fmt.Errorf("bigquery: dataset %s: %w", p.d.spec.String(), err))
	case md == nil:
		// Created by Prepare: no table to compare with, nothing left over.
	default:
		p.datasetExists = true
		if err := p.d.checkDataset(md); err != nil {
			return fmt.Errorf("bigquery: %w", err)
		}
		if p.leftovers, err = p.d.leftovers(ctx, p.c, p.out.Tables, ""); err != nil {
			return p.d.explain(fmt.Errorf("bigquery: list the tables of %s: %w", p.d.spec.String(), err))
		}
	}
	// Every table is checked before any is changed.
	p.want, err = p.d.checkTables(ctx, p.c, p.conn, p.run, p.out, p.datasetExists)
	return err
}

// datasetMetadata reads the dataset's settings; md is nil when it does not
// exist yet.
func (p *publication) datasetMetadata(ctx context.Context) (md *bq.DatasetMetadata, err error) {
	err = p.d.backoff.Do(ctx, "dataset "+p.d.spec.Dataset, retryable, func(ctx context.Context) error {
		md, err = p.c.Dataset(p.d.spec.Dataset).Metadata(ctx)
		if isNotFound(err) {
			md, err = nil, nil
		}
		return err
	})
	return md, err
}

// Prepare creates the dataset when needed, drops the staging tables of
// killed runs, and loads every table into a staging table of the run,
// counting each after its load. Readers see none of it.
func (p *publication) Prepare(ctx context.Context) error {
	if !p.datasetExists {
		if err := p.d.ensureDataset(ctx, p.c); err != nil {
			return p.d.explain(err)
		}
	}
	p.d.drop(ctx, p.c, p.leftovers, p.run, "dropped a staging table left by an interrupted run")
	dir, err := os.MkdirTemp("", "uptake-bigquery-")
	if err != nil {
		return err
	}
	p.dir = dir
	for _, table := range p.out.Tables {
		s, err := p.d.stage(ctx, p.c, p.conn, dir, table, p.run, p.out)
		if s.stage != "" {
			p.loaded = append(p.loaded, s) // dropped by Discard, also when its load failed
		}
		if err != nil {
			return p.d.explain(err)
		}
		p.run.Logger.Info("staged", "step", "publish", "destination", "bigquery", "table", s.published, "stage", s.stage, "rows", p.out.RowsOut[table])
	}
	return p.d.checkStaged(ctx, p.c, p.conn, p.loaded, p.out)
}

// Commit creates or widens the published tables, replaces their rows in
// one transaction, and reads the counts back.
func (p *publication) Commit(ctx context.Context) error {
	if len(p.loaded) != len(p.out.Tables) {
		return errors.New("bigquery: commit before every table was staged")
	}
	for i := range p.loaded {
		created, err := p.d.ensurePublished(ctx, p.c, p.loaded[i])
		if err != nil {
			return p.d.explain(err)
		}
		p.loaded[i].created = created
	}
	if err := p.d.swap(ctx, p.c, p.loaded, p.out, p.run.ID); err != nil {
		return p.d.explain(err)
	}
	if err := p.d.readBack(ctx, p.c, p.loaded, p.want, p.out); err != nil {
		return &connectors.CommittedError{Err: err} // the transaction committed
	}
	return nil
}

// Discard drops the run's staging tables and closes the client.
func (p *publication) Discard(ctx context.Context) {
	var stages []string
	for _, s := range p.loaded {
		stages = append(stages, s.stage)
	}
	p.d.drop(ctx, p.c, stages, p.run, "")
	p.loaded = nil
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
	p.c.Close()
}

// stageMarker separates a published table's name from the run id in its
// staging tables' names.
const stageMarker = "__stage_"

// stageName is the staging table of a published table in a run.
func stageName(published, runID string) string {
	return published + stageMarker + strings.ToLower(sqltext.SafeName(runID))
}

// leftovers lists the staging tables of the dataset that belong to other
// runs than keepRun: those of output tables (with this destination's
// prefix) that a killed run left. With no tables given, any staging table
// with the prefix is listed.
func (d *Destination) leftovers(ctx context.Context, c *bq.Client, tables []string, keepRun string) ([]string, error) {
	ours := map[string]bool{}
	for _, t := range tables {
		ours[d.spec.TablePrefix+t] = true
	}
	var out []string
	err := d.backoff.Do(ctx, "list tables of "+d.spec.Dataset, retryable, func(ctx context.Context) error {
		out = nil
		it := c.Dataset(d.spec.Dataset).Tables(ctx)
		for {
			t, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			i := strings.LastIndex(t.TableID, stageMarker)
			if i <= 0 || len(ours) > 0 && !ours[t.TableID[:i]] || !strings.HasPrefix(t.TableID, d.spec.TablePrefix) || (keepRun != "" && t.TableID == stageName(t.TableID[:i], keepRun)) {
				continue
			}
			out = append(out, t.TableID)
		}
	})
	return out, err
}

// drop deletes staging tables (they expire after a day anyway); a failure
// is only logged. note, when set, is logged for each table dropped.
func (d *Destination) drop(ctx context.Context, c *bq.Client, tables []string, run connectors.Run, note string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, t := range tables {
		err := c.Dataset(d.spec.Dataset).Table(t).Delete(ctx)
		switch {
		case err != nil && !isNotFound(err):
			run.Logger.Warn("could not drop a staging table; it expires within a day", "table", t, "error", err)
		case note != "":
			run.Logger.Info(note, "table", t)
		}
	}
}
