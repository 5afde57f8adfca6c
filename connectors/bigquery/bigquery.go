// Package bigquery is the BigQuery destination: it publishes a run's output
// tables to a dataset, ready for Looker Studio.
//
// Each table's rows travel as a Parquet file written by DuckDB and sent by
// one load job (media upload) into a staging table of the run
// (<table>__stage_<run>, expiring after a day). Only when every load has
// succeeded does one multi-statement transaction replace the published rows
// of every table (DELETE + INSERT … SELECT), so that readers see all the old
// tables or all the new ones. Published tables are created once (monthly
// ones partitioned by month and clustered by salesperson / customer_ref,
// with descriptions from the sql models) and only ever patched to add
// columns. Calls are retried with exponential backoff and jitter on 429,
// 5xx, rateLimitExceeded and backendError.
//
// Before any table is changed, the rows of every table are counted in
// DuckDB and in BigQuery (within the run's window in incremental mode): a
// drop past checks.max_shrink_pct, or an empty table replacing rows, fails
// the publish unless --allow-shrink. After the transaction the counts are
// read back and must match (counts.go).
package bigquery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/googleauth"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

func init() {
	connectors.RegisterDestination("bigquery", func(p config.Plugin, cfg *config.Config) (connectors.Destination, error) {
		return New(p)
	})
}

// Destination publishes to one BigQuery dataset.
type Destination struct {
	spec    Spec
	backoff backoff.Policy
	opts    []option.ClientOption // extra client options (tests point the client at a fake)
	now     func() time.Time
	// endpoint is the API address: the endpoint setting, else
	// http://$BIGQUERY_EMULATOR_HOST, else "" (Google's, with credentials).
	endpoint string
}

// DefaultSpec is the config block of a bigquery destination before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{Mode: "full"} }

// New builds a bigquery destination from its config block.
func New(p config.Plugin) (*Destination, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	endpoint := googleauth.BigQueryEndpoint(spec.Endpoint)
	errs := spec.validate(p, endpoint)
	if err := googleauth.CheckCredentials(p, spec.CredentialsFile); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Destination{spec: spec, backoff: backoff.Default.For("bigquery"), now: time.Now, endpoint: endpoint}, nil
}

// Target is the dataset and table prefix: two destinations with the same
// would replace each other's tables.
func (d *Destination) Target() string {
	return fmt.Sprintf("BigQuery dataset %s.%s with table prefix %q", d.spec.Project, d.spec.Dataset, d.spec.TablePrefix)
}

// Describe says where the destination publishes.
func (d *Destination) Describe() string {
	if d.endpoint != "" {
		return fmt.Sprintf("BigQuery dataset %s at %s", d.spec.String(), d.endpoint)
	}
	return fmt.Sprintf("BigQuery dataset %s", d.spec.String())
}

func (d *Destination) client(ctx context.Context) (*bq.Client, error) {
	// An emulator or a fake needs no credentials: none are sent to an endpoint.
	auth, err := googleauth.ClientOptions(ctx, googleauth.Settings{Service: "bigquery", Scopes: []string{bq.Scope}, CredentialsFile: config.ExpandPath(d.spec.CredentialsFile), Endpoint: d.endpoint, APIPath: "bigquery/v2/"}, d.opts...)
	if err != nil {
		return nil, err
	}
	c, err := bq.NewClient(ctx, d.spec.Project, auth...)
	if err != nil {
		return nil, fmt.Errorf("bigquery client: %w", err)
	}
	c.Location = d.spec.Location
	return c, nil
}

// LookerDataSource binds a Looker Studio data source to a published table
// (read from BigQuery: it must have been published).
func (d *Destination) LookerDataSource(ctx context.Context, table string) (map[string]string, error) {
	c, err := d.client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	md, err := c.Dataset(d.spec.Dataset).Table(d.spec.TablePrefix + table).Metadata(ctx)
	if isNotFound(err) {
		return nil, fmt.Errorf("table %s is not published in %s yet: run uptake once first", d.spec.TablePrefix+table, d.spec.String())
	}
	if err != nil {
		return nil, d.explain(err)
	}
	return map[string]string{
		"connector":        "bigQuery",
		"type":             "TABLE",
		"projectId":        d.spec.Project,
		"datasetId":        d.spec.Dataset,
		"tableId":          d.spec.TablePrefix + table,
		"billingProjectId": d.spec.Project,
		"isPartitioned":    fmt.Sprint(md.TimePartitioning != nil),
		"refreshFields":    "false",
	}, nil
}

// Check verifies that the dataset can be reached with the credentials (for
// `uptake validate`); a dataset that does not exist yet is fine, it will be
// created. Staging tables left by interrupted runs are warned about.
func (d *Destination) Check(ctx context.Context, _ *sql.Conn, run connectors.Run) []error {
	c, err := d.client(ctx)
	if err != nil {
		return []error{err}
	}
	defer c.Close()
	md, err := c.Dataset(d.spec.Dataset).Metadata(ctx)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return []error{d.explain(fmt.Errorf("bigquery: dataset %s: %w", d.spec.String(), err))}
	}
	if err := d.checkDataset(md); err != nil {
		return []error{fmt.Errorf("bigquery: %w", err)}
	}
	left, err := d.leftovers(ctx, c, nil, "")
	if err != nil {
		return []error{d.explain(fmt.Errorf("bigquery: list the tables of %s: %w", d.spec.String(), err))}
	}
	for _, t := range left {
		if run.Warn != nil {
			run.Warn(fmt.Sprintf("bigquery: staging table %s.%s was left by an interrupted run; the next run drops it", d.spec.Dataset, t))
		}
	}
	return nil
}

// checkDataset refuses a dataset whose settings would lose published data
// or send jobs elsewhere.
func (d *Destination) checkDataset(md *bq.DatasetMetadata) error {
	if !strings.EqualFold(md.Location, d.spec.Location) {
		return fmt.Errorf("dataset %s is in location %s, the config says %s", d.spec.Dataset, md.Location, d.spec.Location)
	}
	if md.DefaultTableExpiration > 0 || md.DefaultPartitionExpiration > 0 {
		return fmt.Errorf("dataset %s deletes tables after %s or partitions after %s by default: published history would silently disappear. "+
			"Remove the default expirations (bq update --default_table_expiration 0 --default_partition_expiration 0 %s:%s); "+
			"a BigQuery sandbox sets them and cannot be changed: enable billing on the project",
			d.spec.Dataset, md.DefaultTableExpiration, md.DefaultPartitionExpiration, d.spec.Project, d.spec.Dataset)
	}
	return nil
}

// staged is an output table loaded into its staging table.
type staged struct {
	table, published, stage string
	cols                    []column
	schema                  bq.Schema
	description             string
	// created is set when this run created the published table: it is
	// empty, so the transaction inserts without deleting first (one table
	// update operation less, see the rate limit in ensurePublished).
	created bool
}

func (d *Destination) ensureDataset(ctx context.Context, c *bq.Client) error {
	ds := c.Dataset(d.spec.Dataset)
	return d.backoff.Do(ctx, "dataset "+d.spec.Dataset, retryable, func(ctx context.Context) error {
		md, err := ds.Metadata(ctx)
		if err == nil {
			return d.checkDataset(md)
		}
		if !isNotFound(err) {
			return err
		}
		err = ds.Create(ctx, &bq.DatasetMetadata{Location: d.spec.Location, Description: "KPI tables published by uptake"})
		if isDuplicate(err) {
			return nil
		}
		return err
	})
}

// stage writes a table as Parquet and loads it into its staging table.
func (d *Destination) stage(ctx context.Context, c *bq.Client, conn *sql.Conn, dir, table string, run connectors.Run, out connectors.Published) (staged, error) {
	cols, err := tableColumns(ctx, conn, table)
	if err != nil {
		return staged{}, err
	}
	doc := out.Docs[table]
	schema, err := schemaFor(cols, doc)
	if err != nil {
		return staged{}, fmt.Errorf("table %s: %w", table, err)
	}
	s := staged{table: table, published: d.spec.TablePrefix + table, cols: cols, schema: schema, description: doc.Description}
	s.stage = stageName(s.published, run.ID)

	file := filepath.Join(dir, table+".parquet")
	var sel []string
	for _, col := range cols {
		sel = append(sel, parquetExpr(col))
	}
	q := fmt.Sprintf("COPY (SELECT %s FROM %s) TO %s (FORMAT parquet, %s)",
		strings.Join(sel, ", "), sqltext.Ident(table), sqltext.Quote(file), connectors.ParquetCompression)
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return s, fmt.Errorf("write %s: %w", file, err)
	}

	st := c.Dataset(d.spec.Dataset).Table(s.stage)
	err = d.backoff.Do(ctx, "create staging table "+s.stage, retryable, func(ctx context.Context) error {
		err := st.Create(ctx, &bq.TableMetadata{Schema: schema, ExpirationTime: d.now().Add(24 * time.Hour),
			Description: "uptake run " + run.ID + ": rows of " + s.published + " waiting to be published"})
		if isDuplicate(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return s, err
	}
	err = d.backoff.Do(ctx, "load "+s.stage, retryable, func(ctx context.Context) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		src := bq.NewReaderSource(f)
		src.SourceFormat = bq.Parquet
		src.Schema = schema
		loader := st.LoaderFrom(src)
		loader.WriteDisposition = bq.WriteTruncate
		loader.CreateDisposition = bq.CreateNever
		return runJob(ctx, func() (*bq.Job, error) { return loader.Run(ctx) })
	})
	return s, err
}

// runJob starts a job and waits for it; a job that ended in error returns it.
func runJob(ctx context.Context, start func() (*bq.Job, error)) error {
	job, err := start()
	if err != nil {
		return err
	}
	return waitJob(ctx, job)
}

// waitJob polls a job's status (jobs.get) until it is done. The client's
// Job.Wait reads query results instead, and keeps retrying, without end, a
// query job that failed with backendError or rateLimitExceeded; polling the
// status hands that error to our own retry policy.
func waitJob(ctx context.Context, job *bq.Job) error {
	delay := 100 * time.Millisecond
	for {
		status, err := job.Status(ctx)
		if ctx.Err() != nil {
			return abandonJob(ctx, job)
		}
		if err != nil {
			return err
		}
		if status.Done() {
			return status.Err()
		}
		select {
		case <-ctx.Done():
			return abandonJob(ctx, job)
		case <-time.After(delay):
		}
		if delay *= 2; delay > 5*time.Second {
			delay = 5 * time.Second
		}
	}
}

// abandonJob asks BigQuery to stop a job the run gave up waiting for (a
// second signal), rather than let it run, and a transaction commit, after
// the run has said it failed.
func abandonJob(ctx context.Context, job *bq.Job) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := job.Cancel(cctx); err != nil {
		return fmt.Errorf("%w; job %s may still complete (cancelling it failed: %v)", ctx.Err(), job.ID(), err)
	}
	return fmt.Errorf("%w; job %s was asked to stop, and may still complete if it was about to", ctx.Err(), job.ID())
}

// ensurePublished creates the published table (created is true then), or
// adds the columns it lacks and brings its descriptions up to date.
//
// BigQuery allows 5 table update operations per table every 10 seconds
// (tables.insert/patch, load jobs, each DML statement); a run makes at most
// 3 on a published table (a patch when columns were added or descriptions
// changed, DELETE, INSERT)
// and 2 when it creates it (create, INSERT), so two runs in a row stay
// within the limit; past it, rateLimitExceeded is retried with backoff.
func (d *Destination) ensurePublished(ctx context.Context, c *bq.Client, s staged) (created bool, err error) {
	t := c.Dataset(d.spec.Dataset).Table(s.published)
	err = d.backoff.Do(ctx, "table "+s.published, retryable, func(ctx context.Context) error {
		created = false
		md, err := t.Metadata(ctx)
		if isNotFound(err) {
			meta := &bq.TableMetadata{Schema: s.schema, Description: s.description}
			if p := partitionColumn(s.cols); p != "" {
				meta.TimePartitioning = &bq.TimePartitioning{Type: bq.MonthPartitioningType, Field: p}
			}
			if cl := clusterColumns(s.cols); len(cl) > 0 {
				meta.Clustering = &bq.Clustering{Fields: cl}
			}
			err = t.Create(ctx, meta)
			if isDuplicate(err) {
				return errRetryNow // created meanwhile: read it again
			}
			created = err == nil
			return err
		}
		if err != nil {
			return err
		}
		merged, err := mergeSchema(s.published, md.Schema, s.schema)
		if err != nil {
			return err
		}
		// New columns, or descriptions that changed (sql/marts/schema.yml,
		// or a threshold of the config written in them): one patch.
		var update bq.TableMetadataToUpdate
		if merged != nil {
			update.Schema = merged
		}
		if md.Description != s.description {
			update.Description = s.description
		}
		if merged == nil && md.Description == s.description {
			return nil
		}
		_, err = t.Update(ctx, update, md.ETag)
		return err
	})
	return created, err
}

var errRetryNow = &googleapi.Error{Code: http.StatusServiceUnavailable, Message: "table created concurrently"}

// swap replaces the published rows of every table in one transaction.
// Each attempt has a job id of its own, derived from the run: before trying
// again, the previous attempt is looked up, so that a transaction that did
// commit (while its status could not be read) is not run a second time.
func (d *Destination) swap(ctx context.Context, c *bq.Client, loaded []staged, out connectors.Published, runID string) error {
	script, params := d.script(loaded, out)
	// Two destinations may publish to one dataset with other table prefixes:
	// each has its own transaction.
	base := "uptake_publish_" + d.spec.Dataset + "_" + d.spec.TablePrefix + strings.ToLower(sqltext.SafeName(runID))
	attempt := 0
	return d.backoff.Do(ctx, "publish transaction", retryable, func(ctx context.Context) error {
		if attempt > 0 {
			prev := fmt.Sprintf("%s_%d", base, attempt)
			if job, err := c.JobFromIDLocation(ctx, prev, d.spec.Location); err == nil && waitJob(ctx, job) == nil {
				return nil // it committed after all
			}
		}
		attempt++
		q := c.Query(script)
		q.Location = d.spec.Location
		q.Parameters = params
		q.JobID = fmt.Sprintf("%s_%d", base, attempt)
		job, err := q.Run(ctx)
		if isDuplicate(err) {
			// The client retried jobs.insert after an answer it did not get:
			// the job exists, follow it instead.
			job, err = c.JobFromIDLocation(ctx, q.JobID, d.spec.Location)
		}
		if err != nil {
			return err
		}
		return waitJob(ctx, job)
	})
}

// script is the transaction: for each table, delete the rows being replaced
// (all of them, or the run's window in incremental mode), then insert the
// staged ones.
func (d *Destination) script(loaded []staged, out connectors.Published) (string, []bq.QueryParameter) {
	var b strings.Builder
	b.WriteString("BEGIN TRANSACTION;\n")
	incremental := d.spec.Mode == "incremental"
	for _, s := range loaded {
		var names []string
		for _, col := range s.cols {
			names = append(names, "`"+col.name+"`")
		}
		cols := strings.Join(names, ", ")
		where := d.scopeOf(s.cols, out).googleSQL(incremental)
		if !s.created {
			fmt.Fprintf(&b, "DELETE FROM %s WHERE %s;\n", d.ref(s.published), where)
		}
		fmt.Fprintf(&b, "INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s;\n", d.ref(s.published), cols, cols, d.ref(s.stage), where)
	}
	b.WriteString("COMMIT TRANSACTION;")
	return b.String(), d.params(out)
}

func (d *Destination) ref(table string) string {
	return fmt.Sprintf("`%s.%s.%s`", d.spec.Project, d.spec.Dataset, table)
}

func isNotFound(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusNotFound
}

func isDuplicate(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusConflict
}
