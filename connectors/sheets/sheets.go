// Package sheets is the Google Sheets destination: each output table becomes
// one tab of a spreadsheet that Looker Studio (or a sales manager) reads.
//
// A tab is refreshed without readers ever seeing it half written or empty,
// and it keeps its sheetId (Looker Studio data sources bind to it): the rows
// are first written into a hidden staging tab, then one batchUpdate (which
// Google applies all or nothing) resizes the tab, copies the staged cells
// into it and deletes the staging tab. Text is always written as a string
// value, never as a formula. Calls are retried with backoff and jitter on
// 429 and 5xx.
package sheets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
)

func init() {
	connectors.RegisterDestination("sheets", func(p config.Plugin, cfg *config.Config) (connectors.Destination, error) {
		return New(p)
	})
}

// Spec is the config block of a sheets destination.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// SpreadsheetID is the id in the spreadsheet's URL (/d/<id>/edit).
	SpreadsheetID string `yaml:"spreadsheet_id"`
	// Tabs maps an output table to its tab's name; empty publishes every
	// output table to a tab of the same name.
	Tabs map[string]string `yaml:"tabs"`
	// MaxRows caps the data rows of each tab (the most recent are kept); 0: no cap.
	MaxRows int `yaml:"max_rows"`
	// TruncateLongText cuts text longer than the 50,000 characters of a
	// cell (with a warning) instead of failing the run.
	TruncateLongText bool `yaml:"truncate_long_text"`
	// CredentialsFile is a service-account key file; empty uses Application
	// Default Credentials. The spreadsheet must be shared with the account.
	CredentialsFile string `yaml:"credentials_file"`
	// Endpoint points the client at another Sheets API (an emulator, a
	// private endpoint); no credentials are sent to it.
	Endpoint string `yaml:"endpoint"`
}

// MetaTab is the tab that tells readers when the data was refreshed.
const MetaTab = "_meta"

// Limits of Google Sheets.
const (
	maxCells        = 10_000_000 // cells of a spreadsheet, all tabs together
	maxRequestBytes = 1_500_000  // stay under the recommended 2 MB per request (Google refuses over 10 MB)
)

// Destination publishes to one spreadsheet.
type Destination struct {
	spec    Spec
	backoff backoff.Policy
	opts    []option.ClientOption // tests point the client at a fake
	// writeGap paces write requests: Sheets allows 60 a minute per user.
	writeGap  time.Duration
	lastWrite time.Time
	// maxRequestBytes is the budget of a staging write (tests lower it).
	maxRequestBytes int
}

// writeBackoff waits long enough for Sheets' per-minute write quota to
// refill (Google asks for about a minute after a 429).
var writeBackoff = backoff.Policy{Base: 2 * time.Second, Max: 64 * time.Second, Attempts: 8}

// New builds a sheets destination from its config block.
func New(p config.Plugin) (*Destination, error) {
	var spec Spec
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	var errs []error
	if spec.SpreadsheetID == "" {
		errs = append(errs, p.PluginErrorf("spreadsheet_id", "spreadsheet_id is required (the id in the spreadsheet's URL)"))
	}
	if spec.MaxRows < 0 {
		errs = append(errs, p.PluginErrorf("max_rows", "max_rows must be 0 (no cap) or more"))
	}
	seen := map[string]string{}
	for table, tab := range spec.Tabs {
		if tab == "" || len(tab)+len(stagePrefix) > 100 || tab == MetaTab || strings.HasPrefix(tab, stagePrefix) {
			errs = append(errs, p.PluginErrorf("tabs."+table, "tab name %q is empty, longer than %d characters, or reserved", tab, 100-len(stagePrefix)))
		}
		if other, dup := seen[tab]; dup {
			errs = append(errs, p.PluginErrorf("tabs."+table, "tables %s and %s both go to tab %q", other, table, tab))
		}
		seen[tab] = table
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Destination{spec: spec, backoff: writeBackoff, writeGap: time.Second, maxRequestBytes: maxRequestBytes}, nil
}

// Describe says where the destination publishes.
func (d *Destination) Describe() string { return "Google Sheets spreadsheet " + d.spec.SpreadsheetID }

func (d *Destination) service(ctx context.Context) (*gsheets.Service, error) {
	opts := append([]option.ClientOption{option.WithScopes(gsheets.SpreadsheetsScope)}, d.opts...)
	switch {
	case d.spec.Endpoint != "":
		opts = append(opts, option.WithEndpoint(strings.TrimRight(d.spec.Endpoint, "/")+"/"), option.WithoutAuthentication())
	case d.spec.CredentialsFile != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, config.ExpandPath(d.spec.CredentialsFile)))
	}
	svc, err := gsheets.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("sheets client: %w", err)
	}
	return svc, nil
}

// LookerDataSource binds a Looker Studio data source to a published tab; it
// reads the spreadsheet for the tab's numeric id (gid).
func (d *Destination) LookerDataSource(ctx context.Context, table string) (map[string]string, error) {
	svc, err := d.service(ctx)
	if err != nil {
		return nil, err
	}
	tabs, err := d.tabs(ctx, svc)
	if err != nil {
		return nil, err
	}
	t, ok := tabs[d.tabName(table)]
	if !ok {
		return nil, fmt.Errorf("spreadsheet %s has no tab %q yet: run uptake once first", d.spec.SpreadsheetID, d.tabName(table))
	}
	return map[string]string{
		"connector":     "googleSheets",
		"spreadsheetId": d.spec.SpreadsheetID,
		"worksheetId":   fmt.Sprint(t.id),
		"hasHeader":     "true",
		"refreshFields": "false",
	}, nil
}

// Check verifies that the spreadsheet can be read with the credentials.
func (d *Destination) Check(ctx context.Context, _ *sql.Conn, _ connectors.Run) []error {
	svc, err := d.service(ctx)
	if err != nil {
		return []error{err}
	}
	if _, err := d.tabs(ctx, svc); err != nil {
		return []error{err}
	}
	return nil
}

// tab is one sheet of the spreadsheet as it is now.
type tab struct {
	id           int64
	rows, cols   int64
	frozenColumn int64 // columns a reader froze (kept while they fit)
}

func (d *Destination) tabs(ctx context.Context, svc *gsheets.Service) (map[string]tab, error) {
	var ss *gsheets.Spreadsheet
	err := d.backoff.Do(ctx, "read spreadsheet", retryable, func() (err error) {
		ss, err = svc.Spreadsheets.Get(d.spec.SpreadsheetID).Fields("sheets.properties").Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, d.explain(err)
	}
	out := map[string]tab{}
	for _, s := range ss.Sheets {
		p := s.Properties
		t := tab{id: p.SheetId}
		if g := p.GridProperties; g != nil {
			t.rows, t.cols, t.frozenColumn = g.RowCount, g.ColumnCount, g.FrozenColumnCount
		}
		out[p.Title] = t
	}
	return out, nil
}

// Publish refreshes one tab per output table, then the _meta tab.
func (d *Destination) Publish(ctx context.Context, conn *sql.Conn, run connectors.Run, out connectors.Published) error {
	// Size every tab from row counts and measure its text first: the limits
	// are checked before anything is written.
	type content struct {
		table, tab  string
		cols        []column
		rows, total int64 // rows written (with the header), rows in the table
		pick        selection
		cut         int64 // cells over maxCellChars, cut (truncate_long_text)
	}
	var contents []content
	var sizes []size
	written := map[string]int64{}
	tables, err := d.tables(out.Tables)
	if err != nil {
		return err
	}
	for _, table := range tables {
		cols, err := columnsOf(ctx, conn, table)
		if err != nil {
			return err
		}
		picked, err := selectRows(ctx, conn, table, cols, d.spec.MaxRows)
		if err != nil {
			return err
		}
		n := picked.rows
		c := content{table: table, tab: d.tabName(table), cols: cols, rows: n + 1, total: picked.total, pick: picked}
		what := fmt.Sprintf("table %s (tab %s)", table, c.tab)
		if c.cut, err = checkText(ctx, conn, what, cols, picked, d.spec.TruncateLongText); err != nil {
			return err // before any request: nothing was written
		}
		written[c.tab] = n
		contents = append(contents, c)
		sizes = append(sizes, size{c.tab, what, c.rows, int64(len(cols))})
	}
	sizes = append(sizes, size{MetaTab, "the _meta tab", 64, 2}) // a few rows
	svc, err := d.service(ctx)
	if err != nil {
		return err
	}
	tabs, err := d.tabs(ctx, svc)
	if err != nil {
		return err
	}
	if err := checkCells(tabs, sizes); err != nil {
		return err
	}
	for _, c := range contents {
		if c.rows-1 < c.total {
			run.Logger.Warn("tab capped by max_rows", "tab", c.tab, "rows", c.rows-1, "of", c.total)
		}
		rows := streamRows(ctx, conn, c.cols, c.pick)
		if c.cut > 0 {
			run.Logger.Warn("long text cut to fit a Google Sheets cell (truncate_long_text)", "tab", c.tab, "cells", c.cut, "max_chars", maxCellChars)
			if run.Warn != nil {
				run.Warn(fmt.Sprintf("sheets: %d cells of tab %s cut to the %d characters of a Google Sheets cell (truncate_long_text)", c.cut, c.tab, maxCellChars))
			}
			rows = cutLongText(rows)
		}
		if err := d.publishTab(ctx, svc, c.tab, rows, c.rows, int64(len(c.cols)), tabs, run); err != nil {
			return err
		}
	}
	meta := metaRows(run, out, written)
	return d.publishTab(ctx, svc, MetaTab, sliceStream(meta), int64(len(meta)), 2, tabs, run)
}

// publishTab refreshes one tab of nrows rows (header included) and records it in tabs.
func (d *Destination) publishTab(ctx context.Context, svc *gsheets.Service, name string, rows rowStream, nrows, cols int64, tabs map[string]tab, run connectors.Run) error {
	t, exists := tabs[name]
	id, err := d.refresh(ctx, svc, name, t, exists, rows, nrows, cols, tabs)
	if err != nil {
		return d.explain(fmt.Errorf("tab %s: %w", name, err))
	}
	tabs[name] = tab{id: id, rows: nrows, cols: cols}
	run.Logger.Info("tab refreshed", "step", "publish", "destination", "sheets", "tab", name, "rows", nrows-1)
	return nil
}

// size is a tab's grid after the run.
type size struct {
	tab, what  string // what: "table X (tab Y)", for messages
	rows, cols int64
}

// checkCells fails when the spreadsheet would pass Google's 10 million
// cells at any moment of the run, counting every tab of the spreadsheet
// (ours, the readers' own tabs, a staging tab an interrupted run left):
// tabs are refreshed one after the other, each next to its staging tab,
// while the tabs not yet refreshed keep their old size. Google checks the
// limit after each request of a batch, and in the swap the tab is resized
// to the new size while its staging tab still exists: a tab that grows
// needs its new size twice for a moment.
func checkCells(tabs map[string]tab, sizes []size) error {
	var cells int64
	for _, t := range tabs {
		cells += t.rows * t.cols
	}
	for _, s := range sizes {
		n := s.rows * s.cols
		if n > maxCells {
			return fmt.Errorf("%s would hold %d rows × %d columns = %d cells, above the %d cells of a Google spreadsheet: set max_rows, or read it from BigQuery",
				s.what, s.rows, s.cols, n, maxCells)
		}
		old := tabs[s.tab]
		if peak := cells + n + max(0, n-old.rows*old.cols); peak > maxCells {
			return fmt.Errorf("the spreadsheet would need %d cells while refreshing %s (%d × %d, with its staging copy and every other tab of the spreadsheet), above the %d cells Google allows: set max_rows, drop tabs, or use another spreadsheet",
				peak, s.what, s.rows, s.cols, maxCells)
		}
		cells += n - old.rows*old.cols
	}
	return nil
}

// tables lists the tables to publish: those named in tabs, else all.
func (d *Destination) tables(all []string) ([]string, error) {
	if len(d.spec.Tabs) == 0 {
		return all, nil
	}
	known := map[string]bool{}
	for _, t := range all {
		known[t] = true
	}
	for t := range d.spec.Tabs {
		if !known[t] {
			return nil, fmt.Errorf("tabs: %s is not an output table (they are: %s)", t, strings.Join(all, ", "))
		}
	}
	var out []string
	for _, t := range all {
		if _, ok := d.spec.Tabs[t]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

func (d *Destination) tabName(table string) string {
	if name, ok := d.spec.Tabs[table]; ok {
		return name
	}
	return table
}

// day is a date shown without a time.
type day time.Time

func civilDay(t time.Time) day {
	return day(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
}

// metaRows is the _meta tab: when, which run, which period, rows per tab.
func metaRows(run connectors.Run, out connectors.Published, written map[string]int64) []*gsheets.RowData {
	kv := [][2]any{{"key", "value"},
		{"last_refresh_utc", run.StartedAt.UTC()},
		{"run_id", run.ID},
	}
	if !out.WindowStart.IsZero() {
		// the first and the last day of the months covered
		kv = append(kv, [2]any{"period_start", civilDay(out.WindowStart)}, [2]any{"period_end", civilDay(out.WindowEnd.AddDate(0, 1, -1))})
	}
	names := make([]string, 0, len(written))
	for n := range written {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		kv = append(kv, [2]any{"rows:" + n, written[n]})
	}
	var rows []*gsheets.RowData
	for i, p := range kv {
		var c column
		switch v := p[1].(type) {
		case day:
			c.format = &gsheets.NumberFormat{Type: "DATE", Pattern: "yyyy-mm-dd"}
			p[1] = time.Time(v)
		case time.Time:
			c.format = &gsheets.NumberFormat{Type: "DATE_TIME", Pattern: "yyyy-mm-dd hh:mm:ss"}
		case int64:
			c.format = &gsheets.NumberFormat{Type: "NUMBER", Pattern: "0"}
		}
		if i == 0 {
			c.format = nil
		}
		rows = append(rows, &gsheets.RowData{Values: []*gsheets.CellData{cell(p[0], column{}), cell(p[1], c)}})
	}
	return rows
}

func retryable(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500
	}
	var nerr net.Error
	return errors.As(err, &nerr) // connection reset, timeout: the answer was lost
}

// explain says what to do about permission errors.
func (d *Destination) explain(err error) error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		switch gerr.Code {
		case http.StatusForbidden:
			return fmt.Errorf("%w\n  Share the spreadsheet (Editor) with the service account's e-mail address", err)
		case http.StatusNotFound:
			return fmt.Errorf("%w\n  No spreadsheet %s: check spreadsheet_id (the id in its URL) and that it is shared with the service account", err, d.spec.SpreadsheetID)
		}
	}
	return err
}
