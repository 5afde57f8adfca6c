package bigquery

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

// publishedOnce is a fake dataset where run r1 published twoMonths.
func publishedOnce(t *testing.T) (*bqfake.Server, *Destination) {
	t.Helper()
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	run, out := publishedIn("r1")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	return fake, d
}

// Plan changes nothing; Prepare only loads staging tables, which readers
// do not see; a run killed after Prepare leaves them, the next run's
// publish drops them, and validate (Check) warns about them meanwhile.
func TestPhasesAndLeftoverStagingTables(t *testing.T) {
	fake, d := publishedOnce(t)
	ctx := context.Background()
	before := changes(fake)
	run, out := publishedIn("r2")
	next := warehouseWith(t, twoMonths)
	exec(t, next, `UPDATE kpi_monthly SET salesperson = 'Carol' WHERE salesperson = 'Bob'`)
	p, err := d.Plan(ctx, next, run, out)
	if err != nil {
		t.Fatal(err)
	}
	if n := changes(fake) - before; n != 0 {
		t.Fatalf("Plan sent %d changing requests", n)
	}
	if err := p.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	// Killed here: no Commit, no Discard.
	stages := staging(t, d, fake)
	if len(stages) != 2 || !strings.HasSuffix(stages[0], "__stage_r2") {
		t.Fatalf("staging tables after Prepare: %v", stages)
	}
	if got := salespeople(mustTable(t, fake, "kpi_monthly")); got != "Alice,Bob" {
		t.Errorf("readers see %s after Prepare, want the previous rows Alice,Bob", got)
	}
	var warned []string
	check := connectors.Run{Warn: func(m string) { warned = append(warned, m) }}
	if errs := d.Check(ctx, nil, check); len(errs) != 0 || len(warned) != 2 || !strings.Contains(warned[0], "left by an interrupted run") {
		t.Errorf("check: %v, warnings %v", errs, warned)
	}
	run, out = publishedIn("r3")
	if err := connectors.Publish(ctx, d, next, run, out); err != nil {
		t.Fatal(err)
	}
	if left := staging(t, d, fake); len(left) != 0 {
		t.Errorf("staging tables after the next run: %v", left)
	}
	if got := salespeople(mustTable(t, fake, "kpi_monthly")); got != "Alice,Carol" {
		t.Errorf("published %s, want Alice,Carol", got)
	}
	// Discard after a failed Prepare drops what was loaded.
	run, out = publishedIn("r4")
	p, err = d.Plan(ctx, next, run, out)
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(func(r bqfake.Request) bool { return strings.Contains(r.Path, "/upload/") }, 400, "invalid", 1)
	if err := p.Prepare(ctx); err == nil {
		t.Fatal("Prepare did not fail")
	}
	p.Discard(ctx)
	if left := staging(t, d, fake); len(left) != 0 {
		t.Errorf("staging tables after a discarded run: %v", left)
	}
}

// staging lists the dataset's staging tables.
func staging(t *testing.T, d *Destination, fake *bqfake.Server) []string {
	t.Helper()
	c, err := d.client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	left, err := d.leftovers(context.Background(), c, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return left
}

// A schema a published table cannot take is refused by Plan, before any
// table changes.
func TestPlanRefusesAnIncompatibleSchema(t *testing.T) {
	fake, d := publishedOnce(t)
	ctx := context.Background()
	retyped := warehouseWith(t, twoMonths)
	exec(t, retyped, `ALTER TABLE kpi_monthly ALTER active_customers TYPE VARCHAR`)
	before := changes(fake)
	run, out := publishedIn("r2")
	_, err := d.Plan(ctx, retyped, run, out)
	if err == nil || !strings.Contains(err.Error(), "nothing was published") || !strings.Contains(err.Error(), "changed type") {
		t.Fatalf("err = %v", err)
	}
	if n := changes(fake) - before; n != 0 {
		t.Errorf("%d changing requests", n)
	}
}

// A credentials_file that does not exist or does not parse is a config
// error naming the file, also when an endpoint is set.
func TestCredentialsFileIsCheckedAlsoWithAnEndpoint(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte(`{"type": "service_account",`), 0o600)
	for _, f := range []string{missing, broken} {
		_, err := New(pluginOf(t, "project: my-project\ndataset: kpis\nlocation: EU\nendpoint: http://127.0.0.1:1\ncredentials_file: "+f+"\n"))
		if err == nil || !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "uptake.yaml") {
			t.Errorf("%s: err = %v", filepath.Base(f), err)
		}
	}
}

// Refused credentials (401) fail Plan with a hint, before any change.
func TestRefusedCredentialsGetAHint(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	fake.FailNext(func(r bqfake.Request) bool { return strings.Contains(r.Path, "/datasets/kpis") }, 401, "authError", 1)
	run, out := publishedIn("r1")
	_, err := d.Plan(context.Background(), warehouseWith(t, twoMonths), run, out)
	if err == nil || !strings.Contains(err.Error(), "credentials were refused (401)") {
		t.Fatalf("err = %v", err)
	}
	if n := changes(fake); n != 0 {
		t.Errorf("%d changing requests", n)
	}
}

// Two destinations on one dataset with other table prefixes, in one run:
// each commits its own transaction (their job ids differ).
func TestTwoPrefixesOnOneDatasetInOneRun(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	ctx := context.Background()
	run, out := publishedIn("r1")
	conn := warehouseWith(t, twoMonths)
	var pubs []connectors.Publication
	for _, prefix := range []string{"a_", "b_"} {
		p, err := fakeDest(t, fake, "table_prefix: "+prefix+"\n").Plan(ctx, conn, run, out)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Discard(ctx)
		pubs = append(pubs, p)
	}
	for _, p := range pubs {
		if err := p.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pubs {
		if err := p.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a_kpi_monthly", "b_kpi_monthly"} {
		if got := salespeople(mustTable(t, fake, name)); got != "Alice,Bob" {
			t.Errorf("%s holds %q", name, got)
		}
	}
}

// A job the run stops waiting for (a second signal) is cancelled at
// BigQuery, and the error says it may still complete.
func TestAnAbandonedJobIsCancelled(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	c, err := d.client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	job, err := c.Query("SELECT 1").Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	stop()
	err = waitJob(ctx, job)
	if err == nil || !strings.Contains(err.Error(), "was asked to stop, and may still complete") {
		t.Fatalf("err = %v", err)
	}
	cancelled := false
	for _, r := range fake.Requests() {
		cancelled = cancelled || strings.HasSuffix(r.Path, "/jobs/"+job.ID()+"/cancel")
	}
	if !cancelled {
		t.Error("the job was not cancelled")
	}
}
