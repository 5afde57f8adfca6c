package etl_test

import (
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

func TestJobsNameFileAndLine(t *testing.T) {
	cfg, err := config.Parse("u.yaml", []byte(`sources: [{kind: csvexport}]
destinations: [{kind: files}]
timezone: Europe/Paris
jobs:
  - {name: nightly, schedule: "30 2 * * *"}
  - {name: never, schedule: "0 0 30 2 *"}
  - {name: bad, schedule: "0 2 * *"}
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := etl.Jobs(cfg)
	for _, want := range []string{`u.yaml:6: jobs.1.schedule: "0 0 30 2 *" never fires`, `u.yaml:7: jobs.2.schedule: cron "0 2 * *": expected 5 to 6 fields`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if len(jobs) != 1 || jobs[0].Name != "nightly" || jobs[0].Retries != 2 || jobs[0].Cron.String() != "30 2 * * * Europe/Paris" {
		t.Errorf("jobs = %+v", jobs)
	}
}
