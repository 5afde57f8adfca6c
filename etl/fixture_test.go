package etl_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/config"
	_ "github.com/uptake-dev/uptake/connectors/all"
	"github.com/uptake-dev/uptake/etl"
)

// workspace is the one fixture of the etl tests: a config whose warehouse
// and out/ are in a temporary folder (dir), the inputs it reads, and the
// ways a test runs the pipeline on it and reads what it built. Its
// constructors differ only in where the config and inputs come from:
//   - newWorkspace: a copy of testdata/kpi/input the test may change, and a
//     config written here;
//   - caseWorkspace: a testdata case as its uptake.yaml says (runFixture);
//   - sourcesWorkspace: the sources a test writes, nothing else.
type workspace struct {
	t   *testing.T
	dir string
	cfg *config.Config
}

// date is midnight UTC of that day, the as-of date of a run.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// newWorkspace is a copy of testdata/kpi/input with a config reading it;
// extraYAML adds top-level keys, and sources (list items starting
// "  - name:") after the csvexport one.
func newWorkspace(t *testing.T, extraYAML string) *workspace {
	return newWorkspaceWith(t, "", extraYAML)
}

// newWorkspaceWith is newWorkspace with establishmentsYAML (indented keys)
// added to the establishments block of the source.
func newWorkspaceWith(t *testing.T, establishmentsYAML, extraYAML string) *workspace {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "input")
	if err := os.CopyFS(in, os.DirFS(filepath.Join("..", "testdata", "kpi", "input"))); err != nil {
		t.Fatal(err)
	}
	src, rest := splitSources(extraYAML)
	text := `warehouse: ` + filepath.Join(dir, "wh", "warehouse.duckdb") + `
sources:
  - kind: csvexport
    establishments:
      path: ` + in + `/establishments_*.csv
` + establishmentsYAML + `
    users: {path: ` + in + `/users_*.csv}
    activity: {path: ` + in + `/activity_*.csv}
` + src + `destinations:
  - kind: files
    path: ` + filepath.Join(dir, "out") + `
` + rest
	w := &workspace{t: t, dir: dir}
	w.parse(text)
	return w
}

// caseWorkspace is the testdata case name as its uptake.yaml says, with
// sourcesYAML (list items, indented like the case's own) added after its
// sources. Its sources read the case's files wherever the test runs; its
// warehouse and out/ go to dir.
func caseWorkspace(t *testing.T, name, sourcesYAML string) *workspace {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "testdata", name, "uptake.yaml")
	text := readFile(t, path)
	if sourcesYAML != "" {
		if !strings.Contains(text, "\ndestinations:") {
			t.Fatalf("%s: no destinations: to add sources before", path)
		}
		text = strings.Replace(text, "\ndestinations:", "\n"+strings.TrimRight(sourcesYAML, "\n")+"\ndestinations:", 1)
	}
	cfg, err := config.Parse(path, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg.Warehouse = filepath.Join(dir, "warehouse.duckdb")
	for i := range cfg.Sources {
		chdirNode(t, cfg.Sources[i].Node, root)
	}
	for i := range cfg.Destinations {
		setKey(cfg.Destinations[i].Node, "path", filepath.Join(dir, "out"))
	}
	return &workspace{t: t, dir: dir, cfg: cfg}
}

// sourcesWorkspace is a config with these sources (YAML list items) and a
// files destination, in a folder of its own.
func sourcesWorkspace(t *testing.T, sources string) *workspace {
	t.Helper()
	w := &workspace{t: t, dir: t.TempDir()}
	w.useSources(sources)
	return w
}

// useSources replaces the workspace's config by one with these sources and
// a files destination, keeping its folder.
func (w *workspace) useSources(sources string) {
	w.t.Helper()
	w.configure(filepath.Join(w.dir, "warehouse.duckdb"), sources)
}

// setSources replaces the sources of the workspace's config by these,
// keeping its warehouse and its files destination.
func (w *workspace) setSources(sources string) {
	w.t.Helper()
	w.configure(w.cfg.Warehouse, sources)
}

// configure makes the workspace's config one with this warehouse, these
// sources (YAML list items) and a files destination writing to its out/.
func (w *workspace) configure(warehouse, sources string) {
	w.t.Helper()
	w.parse("warehouse: " + warehouse + "\nsources:\n" + sources +
		"destinations:\n  - kind: files\n    path: " + filepath.Join(w.dir, "out") + "\n")
}

// kpiSource is newWorkspace's csvexport source (a YAML list item) reading
// the workspace's input, its users export only when users.
func (w *workspace) kpiSource(users bool) string {
	in := filepath.Join(w.dir, "input")
	text := "  - kind: csvexport\n    establishments: {path: " + in + "/establishments_*.csv}\n"
	if users {
		text += "    users: {path: " + in + "/users_*.csv}\n"
	}
	return text + "    activity: {path: " + in + "/activity_*.csv}\n"
}

// parse makes text, a config written in dir, the workspace's config.
func (w *workspace) parse(text string) {
	w.t.Helper()
	cfg, err := config.Parse(filepath.Join(w.dir, "uptake.yaml"), []byte(text))
	if err != nil {
		w.t.Fatal(err)
	}
	w.cfg = cfg
}

// run runs the pipeline on the workspace's config: as of 15 October 2026
// unless opt says otherwise, its logs dropped unless opt has a logger.
func (w *workspace) run(opt etl.Options) (*etl.Result, error) {
	return w.runContext(w.t.Context(), opt)
}

// runContext is run with a context the test may cancel.
func (w *workspace) runContext(ctx context.Context, opt etl.Options) (*etl.Result, error) {
	opt.Config = w.cfg
	if opt.AsOf.IsZero() {
		opt.AsOf = date(2026, 10, 15)
	}
	if opt.Logger == nil {
		opt.Logger = discard()
	}
	return etl.Run(ctx, opt)
}

// mustRun runs the pipeline as of asOf and fails the test when it fails.
func (w *workspace) mustRun(asOf time.Time) *etl.Result {
	w.t.Helper()
	res, err := w.run(etl.Options{AsOf: asOf})
	if err != nil {
		w.t.Fatalf("run as of %s: %v", asOf.Format(time.DateOnly), err)
	}
	return res
}

// validate validates the workspace's config and inputs as of asOf.
func (w *workspace) validate(asOf time.Time) (*etl.Validation, error) {
	return etl.Validate(w.t.Context(), w.cfg, asOf, discard())
}

// write replaces (or adds) an input file.
func (w *workspace) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "input", name), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// db is the warehouse, opened read-only until the test ends (a run
// cannot open it meanwhile: use scan or cells between runs).
func (w *workspace) db() *sql.DB {
	w.t.Helper()
	db, err := sql.Open("duckdb", w.cfg.Warehouse+"?access_mode=read_only")
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { db.Close() })
	return db
}

// scan reads the one row of a query on the warehouse into dest. The
// warehouse is closed again, so that the test can run the pipeline next.
func (w *workspace) scan(q string, dest ...any) {
	w.t.Helper()
	db, err := sql.Open("duckdb", w.cfg.Warehouse+"?access_mode=read_only")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

// cells runs a query on the warehouse and prints its rows with cells,
// closing the warehouse again.
func (w *workspace) cells(q string) []string {
	w.t.Helper()
	db, err := sql.Open("duckdb", w.cfg.Warehouse+"?access_mode=read_only")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	return cells(w.t, rows)
}

// runFixture runs the pipeline on a testdata case as of asOf and returns
// the warehouse (read-only), the run's result and the folder.
func runFixture(t *testing.T, name string, asOf time.Time) (*sql.DB, *etl.Result, string) {
	t.Helper()
	return runFixtureWith(t, name, asOf, "")
}

// runFixtureWith is runFixture with more sources (see caseWorkspace).
func runFixtureWith(t *testing.T, name string, asOf time.Time, sourcesYAML string) (*sql.DB, *etl.Result, string) {
	t.Helper()
	w := caseWorkspace(t, name, sourcesYAML)
	res := w.mustRun(asOf)
	return w.db(), res, w.dir
}
