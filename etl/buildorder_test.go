package etl

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// orderModels are four models: b reads a, d reads b and c.
var orderModels = []uptakesql.Model{
	{Name: "a"},
	{Name: "b", Deps: []string{"a"}},
	{Name: "c"},
	{Name: "d", Deps: []string{"b", "c"}},
}

// runOrder runs two workers over o with build, as transform does.
func runOrder(o *buildOrder, build func(uptakesql.Model) error) {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.work(build)
		}()
	}
	wg.Wait()
}

// statement stands for a statement DuckDB runs: the worker gives up the
// build order's lock meanwhile, as turnTaker does.
func statement(o *buildOrder, f func()) {
	o.mu.Unlock()
	defer o.mu.Lock()
	f()
}

// TestModelsAreBuiltTwoAtOnceAfterTheirInputs: a's statement runs until c
// has started (so a and c run at once, two workers), and no model starts
// before every model it reads has ended.
func TestModelsAreBuiltTwoAtOnceAfterTheirInputs(t *testing.T) {
	o := newBuildOrder(orderModels)
	cStarted := make(chan struct{})
	var events []string
	runOrder(o, func(m uptakesql.Model) error {
		events = append(events, "start "+m.Name)
		switch m.Name {
		case "a":
			statement(o, func() {
				select {
				case <-cStarted:
				case <-time.After(10 * time.Second):
					t.Error("c did not start while a was being built")
				}
			})
		case "c":
			close(cStarted)
		}
		events = append(events, "end "+m.Name)
		return nil
	})
	if o.err != nil {
		t.Fatal(o.err)
	}
	// c starts while a runs (a is first in order, c the first ready after it);
	// b once a has ended; d last, after b and c.
	want := []string{"start a", "start c", "end c", "end a", "start b", "end b", "start d", "end d"}
	if !slices.Equal(events, want) {
		t.Fatalf("events:\n got %q\nwant %q", events, want)
	}
}

// TestAFailedBuildStopsTheOthers: c fails while a is in a statement; a then
// fails too (its statement interrupted), and the error is c's; no model is
// started after the failure.
func TestAFailedBuildStopsTheOthers(t *testing.T) {
	o := newBuildOrder(orderModels)
	cFailed := make(chan struct{})
	boom, interrupted := errors.New("sql/c.sql: boom"), errors.New("context canceled")
	var started []string
	runOrder(o, func(m uptakesql.Model) error {
		started = append(started, m.Name)
		switch m.Name {
		case "a":
			statement(o, func() { <-cFailed })
			return interrupted
		case "c":
			close(cFailed)
			return boom
		}
		return nil
	})
	if o.err != boom {
		t.Fatalf("error %v, want c's (%v)", o.err, boom)
	}
	if !slices.Equal(started, []string{"a", "c"}) {
		t.Fatalf("started %q, want a and c only", started)
	}
}

// TestOneWorkerBuildsInTheOrderOfSQL: without a second connection, the
// models are built one at a time in the order of sql/.
func TestOneWorkerBuildsInTheOrderOfSQL(t *testing.T) {
	o := newBuildOrder(orderModels)
	var built []string
	o.work(func(m uptakesql.Model) error {
		built = append(built, m.Name)
		return nil
	})
	if !slices.Equal(built, []string{"a", "b", "c", "d"}) {
		t.Fatalf("built %q", built)
	}
}
