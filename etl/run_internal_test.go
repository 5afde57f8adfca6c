package etl

import (
	"regexp"
	"testing"
	"time"
)

// TestRunIDsOfOneSecondDiffer: a run's id is its start time and a random
// 32-bit suffix, so that the runs a backfill starts in one second (or a
// test's fixed clock) do not share one: with 16 bits, a pair did once in
// 65,536, and the second run failed to record itself (seen in CI).
func TestRunIDsOfOneSecondDiffer(t *testing.T) {
	at := time.Date(2026, 10, 15, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	shape := regexp.MustCompile(`^20261015T000000Z-[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for range 100 {
		id := newRunID(at)
		if !shape.MatchString(id) {
			t.Fatalf("run id %q, want the UTC start and 8 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("run id %q given twice in 100 runs of one second", id)
		}
		seen[id] = true
	}
}
