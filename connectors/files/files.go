// Package files is the local destination: it writes each output table as
// Parquet and CSV, a DuckDB file with the output tables for ad-hoc queries,
// and an offline HTML report, into one folder (out/ by default).
//
// The folder is replaced atomically: everything is written into a sibling
// folder first, then swapped into place, so a reader or a failed run never
// sees half an out/. The folder belongs to uptake: anything else in it is
// replaced at the next run.
package files

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

func init() {
	connectors.RegisterDestination("files", func(p config.Plugin, cfg *config.Config) (connectors.Destination, error) {
		return New(p)
	})
}

// Spec is the config block of a files destination.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Path is the output folder, replaced as a whole at each successful run
	// (keep nothing else in it).
	Path string `yaml:"path"`
	// Formats are the formats each table is written in: `parquet`, `csv`,
	// or both.
	Formats []string `yaml:"formats"`
	// DuckDB, when true (the default), writes `uptake.duckdb` with the output
	// tables.
	DuckDB *bool `yaml:"duckdb"`
	// Report, when true (the default), writes `report.html`.
	Report *bool `yaml:"report"`
}

// Destination writes a run's outputs to a local folder.
type Destination struct {
	spec Spec
}

// DefaultSpec is the config block of a files destination before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{Path: "out", Formats: []string{"parquet", "csv"}} }

// New builds a files destination from its config block.
func New(p config.Plugin) (*Destination, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	for _, f := range spec.Formats {
		if f != "parquet" && f != "csv" {
			return nil, p.PluginErrorf("formats", "unknown format %q (parquet, csv)", f)
		}
	}
	if spec.Path == "" {
		return nil, p.PluginErrorf("path", "path must not be empty")
	}
	return &Destination{spec: spec}, nil
}

func (d *Destination) on(b *bool) bool { return b == nil || *b }

// Describe says where and what the destination writes, for the run summary.
func (d *Destination) Describe() string {
	what := append([]string{}, d.spec.Formats...)
	if d.on(d.spec.DuckDB) {
		what = append(what, "uptake.duckdb")
	}
	if d.on(d.spec.Report) {
		what = append(what, "report.html")
	}
	return fmt.Sprintf("%s/ (%s)", d.spec.Path, strings.Join(what, ", "))
}

// Target is the output folder's absolute path.
func (d *Destination) Target() string {
	abs, err := filepath.Abs(d.spec.Path)
	if err != nil {
		abs = filepath.Clean(d.spec.Path)
	}
	return "folder " + abs
}

// Local says that out/ is on this machine: the engine commits it after
// every remote destination.
func (d *Destination) Local() bool { return true }

// Plan checks that the output folder can be replaced: it is uptake's (or
// absent or empty) and its parent can be written. Nothing is changed.
func (d *Destination) Plan(_ context.Context, conn *sql.Conn, run connectors.Run, out connectors.Published) (connectors.Publication, error) {
	final := filepath.Clean(d.spec.Path)
	if err := ownedOrAbsent(final); err != nil {
		return nil, err
	}
	if err := writable(filepath.Dir(final)); err != nil {
		return nil, err
	}
	return &publication{d: d, conn: conn, run: run, out: out, final: final}, nil
}

// publication is one run's out/: written beside, then swapped in.
type publication struct {
	d     *Destination
	conn  *sql.Conn
	run   connectors.Run
	out   connectors.Published
	final string
	tmp   string // the folder written beside final ("" once swapped in)
}

// Prepare writes every output table, uptake.duckdb and report.html into a
// folder beside the output folder, flushed to disk.
func (p *publication) Prepare(ctx context.Context) error {
	parent := filepath.Dir(p.final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	removeLeftovers(parent, p.final, p.run.Logger)
	tmp, err := os.MkdirTemp(parent, stagingPrefix(p.final))
	if err != nil {
		return fmt.Errorf("create staging folder: %w", err)
	}
	p.tmp = tmp
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte(markerText(p.run)), 0o644); err != nil {
		return err
	}
	if err := p.writeTables(ctx); err != nil {
		return err
	}
	if p.d.on(p.d.spec.Report) {
		if err := p.timed("wrote", "file", "report.html", func() error {
			return writeReport(ctx, p.conn, filepath.Join(tmp, "report.html"), p.run, p.out)
		}); err != nil {
			return err
		}
	}
	// Readable by anyone who can read the folder, whatever the umask (uptake
	// runs with 077 so that its warehouse stays private).
	if err := shareTree(tmp); err != nil {
		return err
	}
	return p.timed("flushed to disk", "folder", tmp, func() error { return syncTree(tmp) })
}

// shareTree makes the files of dir 0644.
func shareTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeTables writes each table in the formats asked for (Parquet, CSV),
// then uptake.duckdb.
func (p *publication) writeTables(ctx context.Context) error {
	formats := p.d.spec.Formats
	for _, t := range p.out.Tables {
		if err := ctx.Err(); err != nil {
			return err
		}
		if slices.Contains(formats, "parquet") {
			parquet := filepath.Join(p.tmp, t+".parquet")
			if err := p.write(ctx, parquet, fmt.Sprintf("COPY %s TO %s (FORMAT parquet, %s)", sqltext.Ident(t), sqltext.Quote(parquet), connectors.ParquetCompression)); err != nil {
				return err
			}
		}
		if slices.Contains(formats, "csv") {
			csv := filepath.Join(p.tmp, t+".csv")
			if err := p.write(ctx, csv, fmt.Sprintf("COPY %s TO %s (FORMAT csv, HEADER)", sqltext.Ident(t), sqltext.Quote(csv))); err != nil {
				return err
			}
		}
	}
	if p.d.on(p.d.spec.DuckDB) {
		return p.timed("wrote", "file", "uptake.duckdb", func() error {
			return writeDuckDB(ctx, p.conn, filepath.Join(p.tmp, "uptake.duckdb"), p.out.Tables)
		})
	}
	return nil
}

// write runs the statement that writes file.
func (p *publication) write(ctx context.Context, file, statement string) error {
	return p.timed("wrote", "file", filepath.Base(file), func() error {
		if _, err := p.conn.ExecContext(ctx, statement); err != nil {
			return fmt.Errorf("write %s: %w", file, err)
		}
		return nil
	})
}

// timed runs one step of the publication and logs it, with what it worked
// on (key and value) and its time (debug): where a publish's time goes.
func (p *publication) timed(msg, key, value string, step func() error) error {
	t0 := time.Now()
	if err := step(); err != nil {
		return err
	}
	p.run.Logger.Debug(msg, key, value, "duration", time.Since(t0).Round(time.Millisecond).String())
	return nil
}

// Commit swaps the prepared folder into place.
func (p *publication) Commit(context.Context) error {
	if p.tmp == "" {
		return errors.New("commit before prepare")
	}
	if err := swapInto(p.tmp, p.final, p.run.Logger); err != nil {
		return err
	}
	p.tmp = ""
	return nil
}

// Discard removes the prepared folder when it was not swapped in.
func (p *publication) Discard(context.Context) {
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
		p.tmp = ""
	}
}

// writable fails when dir (or, when it does not exist yet, the nearest
// folder above it) cannot be written.
func writable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, os.ErrNotExist) && filepath.Dir(d) != d {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", d)
		}
		if err := accessWrite(d); err != nil {
			return fmt.Errorf("cannot write the output folder's parent %s: %w", d, err)
		}
		return nil
	}
}

// Marker is the file that marks a folder as written by uptake. A folder
// without it is never replaced: a wrong `path` must not wipe someone's files.
const Marker = ".uptake-out"

func markerText(run connectors.Run) string {
	return fmt.Sprintf("Written by uptake, run %s. This folder is replaced as a whole at each run.\n", run.ID)
}

// ownedOrAbsent accepts a path that does not exist, an empty folder, or a
// folder holding uptake's marker.
func ownedOrAbsent(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, Marker)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !looksOurs(e) {
			return fmt.Errorf("%s holds %s and was not written by uptake (no %s file): refusing to replace it; choose an empty or new folder as path", dir, e.Name(), Marker)
		}
	}
	return nil
}

// looksOurs accepts the files an uptake run writes, so that an out/ written
// before the marker existed is still replaced.
func looksOurs(e os.DirEntry) bool {
	if e.IsDir() {
		return false
	}
	n := e.Name()
	return strings.HasSuffix(n, ".parquet") || strings.HasSuffix(n, ".csv") || n == "uptake.duckdb" || n == "uptake.duckdb.wal" || n == "report.html"
}

func stagingPrefix(final string) string { return "." + filepath.Base(final) + ".new-" }

// removeLeftovers deletes staging folders of runs that were killed before
// swapping them in (the run lock guarantees none is in use).
func removeLeftovers(parent, final string, log *slog.Logger) {
	matches, _ := filepath.Glob(filepath.Join(parent, stagingPrefix(final)+"*"))
	for _, m := range matches {
		entries, _ := os.ReadDir(m)
		if _, err := os.Stat(filepath.Join(m, Marker)); err != nil && !strings.HasSuffix(m, ".old") && len(entries) > 0 {
			continue // not ours (an empty one is: killed before its marker)
		}
		if err := os.RemoveAll(m); err == nil && log != nil {
			log.Info("removed a staging folder left by an interrupted run", "folder", m)
		}
	}
}

// syncTree flushes every file of dir, and dir itself, to disk before the
// swap, so that a crash right after it cannot leave empty files in place.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := syncPath(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return syncPath(dir)
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// OutStorageVersion is the DuckDB storage format of uptake.duckdb: DuckDB's
// default, which DuckDB 1.0 and later read.
const OutStorageVersion = "v1.0.0"

// writeDuckDB builds a DuckDB file holding the output tables, attached to
// the run's connection (a second database instance would cost a quarter of
// a second to start and stop), copied table by table, then detached, which
// checkpoints it. The warehouse is only read.
func writeDuckDB(ctx context.Context, conn *sql.Conn, path string, tables []string) (err error) {
	const alias = "uptake_out"
	// In DuckDB's default storage format (readable by DuckDB 1.0 and later),
	// whatever format the warehouse is in: analysts open it with the DuckDB
	// they have.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ATTACH %s AS %s (STORAGE_VERSION %s)", sqltext.Quote(path), alias, sqltext.Quote(OutStorageVersion))); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	// Detached whatever happens (a stopped run included), so that the
	// connection is left as it was found.
	defer func() {
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE IF EXISTS "+alias); derr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, derr)
		}
	}()
	for _, t := range tables {
		q := fmt.Sprintf("CREATE TABLE %s.%s AS FROM %s", alias, sqltext.Ident(t), sqltext.Ident(t))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("write %s into %s: %w", t, path, err)
		}
	}
	return nil
}

func writeReport(ctx context.Context, conn *sql.Conn, path string, run connectors.Run, out connectors.Published) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	warnings := out.Warnings
	if run.Warnings != nil { // with those of the destinations prepared before out/ (local files come last)
		warnings = run.Warnings()
	}
	info := ReportInfo{RunID: run.ID, StartedAt: run.StartedAt, Duration: run.Elapsed(), RowsOut: out.RowsOut, Rejects: out.Rejects, Warnings: warnings, Settings: out.Settings}
	err = RenderReport(ctx, conn, f, info)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// swapInto puts the folder tmp at final. When final exists the two are
// exchanged in one step (Linux renameat2), so final is never missing; the
// old content is then removed (a failure to remove it is only logged: the
// new folder is in place).
func swapInto(tmp, final string, log *slog.Logger) error {
	defer syncPath(filepath.Dir(final)) // make the rename itself durable
	if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, final)
	}
	if err := exchange(tmp, final); err != nil {
		// No atomic exchange on this system: move the old folder aside first.
		old := tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("replace %s: %w", final, err)
		}
		if err := os.Rename(tmp, final); err != nil {
			os.Rename(old, final)
			return fmt.Errorf("replace %s: %w", final, err)
		}
		tmp = old
	}
	if err := os.RemoveAll(tmp); err != nil && log != nil {
		log.Warn("could not remove the previous output folder", "folder", tmp, "error", err)
	}
	return nil
}
