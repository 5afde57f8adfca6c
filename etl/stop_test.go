package etl_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

// onMessage is a log handler that calls f at the first record with msg.
type onMessage struct {
	slog.Handler
	msg  string
	f    func()
	done bool
}

func (h *onMessage) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg && !h.done {
		h.done = true
		h.f()
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }

// twoDestinations is the fixture published to out-a/ then out-b/.
func twoDestinations(t *testing.T) *workspace {
	t.Helper()
	w := newWorkspace(t, "")
	text := strings.Replace(readFile(t, filepath.Join("..", "testdata", "kpi", "uptake.yaml")), "testdata/", filepath.Join("..", "testdata")+"/", -1)
	text = strings.Replace(text, "warehouse: .uptake/warehouse.duckdb", "warehouse: "+w.cfg.Warehouse, 1)
	text = strings.Replace(text, "destinations:\n  - kind: files\n    path: out\n",
		"destinations:\n  - {name: a, kind: files, path: "+filepath.Join(w.dir, "out-a")+"}\n  - {name: b, kind: files, path: "+filepath.Join(w.dir, "out-b")+"}\n", 1)
	cfg, err := config.Parse("uptake.yaml", []byte(text)) // its paths are relative to etl/
	if err != nil {
		t.Fatal(err)
	}
	w.cfg = cfg
	return w
}

// A stop that arrives while the run publishes waits for the publish and the
// swap: both destinations and the warehouse get the run.
func TestStopDuringPublishFinishesIt(t *testing.T) {
	w := twoDestinations(t)
	ctx, stop := context.WithCancelCause(context.Background())
	log := slog.New(&onMessage{Handler: discard().Handler(), msg: "published", f: func() { stop(errors.New("stopped by SIGTERM")) }})
	res, err := w.runContext(ctx, etl.Options{Logger: log})
	if err != nil {
		t.Fatalf("a stop during the publish failed the run: %v", err)
	}
	if strings.Join(res.Published, ",") != "a,b" {
		t.Errorf("published to %v, want a and b", res.Published)
	}
	for _, d := range []string{"out-a", "out-b"} {
		if _, err := os.Stat(filepath.Join(w.dir, d, "kpi_overview_monthly.csv")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	runs, err := etl.History(context.Background(), w.cfg, 5)
	if err != nil || len(runs) != 1 || runs[0].Status != "success" {
		t.Fatalf("history: %+v %v", runs, err)
	}
}

// A stop before the publish: nothing published, history says stopped.
// A second signal during the publish abandons it: the destination in
// flight is left whole (files: out-b/ never appears) and the run fails.
func TestStopBeforePublishAndAbandon(t *testing.T) {
	w := twoDestinations(t)
	ctx, stop := context.WithCancelCause(context.Background())
	log := slog.New(&onMessage{Handler: discard().Handler(), msg: "built", f: func() { stop(errors.New("stopped by SIGTERM")) }})
	_, err := w.runContext(ctx, etl.Options{Logger: log})
	if !errors.Is(err, etl.ErrStopped) || !strings.Contains(err.Error(), "(stopped by SIGTERM)") {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	for _, d := range []string{"out-a", "out-b"} {
		if _, err := os.Stat(filepath.Join(w.dir, d)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a run stopped before publishing", d)
		}
	}

	ctx, stop = context.WithCancelCause(context.Background())
	abandon, abandonNow := context.WithCancel(context.Background())
	log = slog.New(&onMessage{Handler: discard().Handler(), msg: "published", f: func() { stop(errors.New("stopped")); abandonNow() }})
	_, err = w.runContext(ctx, etl.Options{Logger: log, Abandon: abandon})
	if err == nil || !strings.Contains(err.Error(), "publish abandoned") || !strings.Contains(err.Error(), "Published to a; not to b") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "out-a", "kpi_overview_monthly.csv")); err != nil {
		t.Errorf("out-a: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "out-b")); !os.IsNotExist(err) {
		t.Errorf("out-b exists after its publish was abandoned")
	}
	runs, err := etl.History(context.Background(), w.cfg, 5)
	if err != nil || len(runs) != 2 || runs[0].Status != "failed" || runs[1].Status != "stopped" ||
		!strings.Contains(runs[1].Error.String, "stopped before it published") || !strings.Contains(runs[0].Error.String, "publish abandoned") {
		t.Fatalf("history: %+v %v", runs, err)
	}
}

// A stop while the destinations are being prepared stops the run: nothing
// is published and what was prepared is removed (preparing changes
// nothing readers see, so there is nothing to finish).
func TestStopWhilePreparingPublishesNothing(t *testing.T) {
	w := twoDestinations(t)
	ctx, stop := context.WithCancelCause(context.Background())
	log := slog.New(&onMessage{Handler: discard().Handler(), msg: "prepared", f: func() { stop(errors.New("stopped by SIGTERM")) }})
	res, err := w.runContext(ctx, etl.Options{Logger: log})
	if !errors.Is(err, etl.ErrStopped) || res.Status != "stopped" || len(res.Published) != 0 {
		t.Fatalf("status %s, published %v, err %v", res.Status, res.Published, err)
	}
	entries, _ := os.ReadDir(w.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "out-") || strings.HasPrefix(e.Name(), ".out-") {
			t.Errorf("%s left after a run stopped while preparing", e.Name())
		}
	}
}
