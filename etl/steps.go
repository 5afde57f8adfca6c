package etl

// A run is a list of steps, each in a file of its own, read top to bottom:
//
//	setup      steps.go      the connectors, the run's variables, the file cache
//	extract    extract.go    every source pulls its inputs; rejects kept and checked
//	load       load.go       the raw tables, in a build schema of their own
//	transform  transform.go  the models of sql/, in dependency order
//	test       test.go       the data tests and the checks on the outputs
//	publish    publish.go    every destination, all or nothing
//	swap       swap.go       the build schema made live, the watermarks moved
//
// Each goes through one runner (pipeline.do), which logs its duration and
// counts and prefixes its error with its name. `uptake validate` runs the
// same steps up to the publish, on a throwaway warehouse.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/filecache"
	"github.com/uptake-dev/uptake/etl/warehouse"
)

// pipeline is what the steps of one run share: its connection, options and
// result, and what each step hands to the next.
type pipeline struct {
	// db is the warehouse, conn the run's connection to it (its temp
	// tables hold what the sources read); the publish's checkpoint opens
	// another (nil: none, as in validate).
	db   *sql.DB
	conn *sql.Conn
	opt  Options
	run  connectors.Run
	res  *Result
	log  *slog.Logger

	plugins     *plugins             // setup: the sources and destinations
	vars        map[string]string    // setup: the variables handed to sql/
	files       *filecache.Store     // setup: the input files kept from earlier runs
	ex          connectors.Extracted // extract: what the sources read
	build, live string               // load: the schema built, the one live until the swap
	builder     *builder             // load: builds the models, keeping what did not change
	pubs        []publication        // publish: each destination's publication
	// checkpointed waits for the checkpoint the publish starts.
	checkpointed func()
}

// step is one step of a run: its name, and what it does, returning the
// counts its log line shows (key, value pairs).
type step struct {
	name string
	do   func(ctx context.Context, p *pipeline) ([]any, error)
}

// runSteps are a run's steps, in order.
var runSteps = []step{
	{"setup", setup},
	{"extract", extractStep},
	{"load", loadStep},
	{"transform", transformStep},
	{"test", testStep},
	{"publish", publishStep},
	{"swap", swapStep},
}

// stepsNamed are the run's steps of those names, in the order given.
func stepsNamed(names ...string) []step {
	var out []step
	for _, n := range names {
		for _, s := range runSteps {
			if s.name == n {
				out = append(out, s)
			}
		}
	}
	return out
}

// do runs steps in order and stops at the first that fails, its error
// prefixed with the step's name. Each logs one line as it ends: the step,
// its counts and its duration.
func (p *pipeline) do(ctx context.Context, steps ...step) error {
	for _, s := range steps {
		t0 := time.Now()
		counts, err := s.do(ctx, p)
		// The parts a step built (load, transform) go to parts.index as it
		// ends, whether it failed or not: the next run finds them.
		if p.builder != nil {
			if werr := p.builder.writeIndex(context.WithoutCancel(ctx)); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		p.log.Info("step done", append(append([]any{"step", s.name}, counts...), "duration", took(t0))...)
	}
	return nil
}

// setup builds the connectors, hands the run's variables to sql/ and opens
// the table of the run's rejects and the file cache.
func setup(ctx context.Context, p *pipeline) ([]any, error) {
	var err error
	if p.plugins == nil {
		if p.plugins, err = newPlugins(p.opt.Config); err != nil {
			return nil, err
		}
	}
	p.res.Destinations = p.plugins.describe()
	if p.vars, err = setVariables(ctx, p.conn, p.opt.Config, p.run.AsOf, p.run.StartedAt); err != nil {
		return nil, err
	}
	// The run's rejects, and the cache that keeps files' rejects beside it.
	if err := execModel(ctx, p.conn, "contract", "load_rejects"); err != nil {
		return nil, err
	}
	if p.files, err = filecache.New(ctx, p.conn, filecache.Options{RunID: p.res.RunID, FullRefresh: p.opt.FullRefresh}); err != nil {
		return nil, err
	}
	p.run.Files = p.files
	p.run.Rows = warehouse.RowWriter{Conn: p.conn}
	return []any{"sources", len(p.plugins.sources), "destinations", len(p.plugins.dests)}, nil
}

// waitCheckpoint waits for the checkpoint the publish started, if any.
func (p *pipeline) waitCheckpoint() {
	if p.checkpointed != nil {
		p.checkpointed()
		p.checkpointed = nil
	}
}
