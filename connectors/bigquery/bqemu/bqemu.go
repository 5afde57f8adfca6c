// Package bqemu finds the BigQuery emulator the tests that need one run
// against (goccy's bigquery-emulator, a real GoogleSQL engine): the one
// place those tests read its address, and skip without it.
//
// CI starts it (.ci/run); elsewhere: docker run -p 9050:9050
// ghcr.io/goccy/bigquery-emulator --project=test, then
// BIGQUERY_EMULATOR_HOST=localhost:9050.
package bqemu

import (
	"os"
	"testing"
)

// Address returns the emulator's host:port (BIGQUERY_EMULATOR_HOST) and
// project (BIGQUERY_EMULATOR_PROJECT, "test" by default), or skips the
// test when no emulator is set.
func Address(t testing.TB) (host, project string) {
	t.Helper()
	host = os.Getenv("BIGQUERY_EMULATOR_HOST")
	if host == "" {
		t.Skip("BIGQUERY_EMULATOR_HOST is not set: start the BigQuery emulator to run this test")
	}
	project = os.Getenv("BIGQUERY_EMULATOR_PROJECT")
	if project == "" {
		project = "test"
	}
	return host, project
}
