// Package sheets is the Google Sheets destination: each output table becomes
// one tab of a spreadsheet that Looker Studio (or a sales manager) reads.
//
// Readers see all the tabs of one run: Plan checks everything (credentials,
// the spreadsheet, every limit) with read requests only; Prepare writes
// every tab, and _meta, into hidden staging tabs, in as few batchUpdates as
// fit under 1.5 MB each (the rows of several tabs in one, number formats
// set by column rather than repeated in every cell); Commit sends one
// batchUpdate (which Google applies all or nothing) that, for every tab,
// resizes it (or adds it), copies the staged cells into it and deletes the
// staging tab. A tab keeps its sheetId (Looker Studio data sources bind to
// it). A spreadsheet too small for a staging copy of every tab may be
// refreshed tab by tab instead (refresh: tab_by_tab). Text is always written
// as a string value, never as a formula. Calls are retried with backoff and
// jitter on 429, 5xx and lost answers.
package sheets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/googleauth"
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
	// SpreadsheetID is the id in the spreadsheet's URL (`/d/<id>/edit`).
	// Required.
	SpreadsheetID string `yaml:"spreadsheet_id"`
	// Tabs maps an output table to the name of its tab, as `table: tab
	// name`, such as `{kpi_overview_monthly: Overview}`; only the tables
	// listed are published (default: every output table, to a tab of the
	// same name). A tab name may not be `_meta` nor start with
	// `_uptake_stage_`.
	Tabs map[string]string `yaml:"tabs"`
	// MaxRows caps the data rows of each tab, the most recent kept (default,
	// or 0: no cap).
	MaxRows int `yaml:"max_rows"`
	// TruncateLongText, when true, cuts text longer than the 50,000
	// characters of a cell (ending it with `…`) and warns, instead of
	// failing the run (default false).
	TruncateLongText bool `yaml:"truncate_long_text"`
	// CredentialsFile is a service-account key file; share the spreadsheet
	// (Editor) with the account's e-mail address (default: Application
	// Default Credentials).
	CredentialsFile string `yaml:"credentials_file"`
	// Endpoint is another address of the Sheets API, such as
	// `http://localhost:8080` (an emulator, a private endpoint), reached
	// without credentials: a base URL with its scheme, `http://host:port`
	// or `https://host`, to which the client adds the API's paths
	// (`/v4/spreadsheets/…`); a trailing slash is optional. Default:
	// Google's.
	Endpoint string `yaml:"endpoint"`
	// Refresh is how the tabs are replaced: `all_at_once` (the default:
	// every tab and `_meta` change together, in one request) or `tab_by_tab`
	// (one tab after the other, then `_meta`: for a spreadsheet too full to
	// hold a staging copy of every tab, at the cost of readers possibly
	// seeing tabs of two runs side by side).
	Refresh string `yaml:"refresh"`
}

// The values of Spec.Refresh.
const (
	AllAtOnce = "all_at_once"
	TabByTab  = "tab_by_tab"
)

// MetaTab is the tab that tells readers when the data was refreshed.
const MetaTab = "_meta"

// Limits of Google Sheets.
const (
	maxCells        = 10_000_000 // cells of a spreadsheet, all tabs together
	maxColumns      = 18_278     // columns of a tab (ZZZ)
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
var writeBackoff = backoff.Policy{Service: "sheets", LoggedByTransport: true, Base: 2 * time.Second, Max: 64 * time.Second, Attempts: 8}

// DefaultSpec is the config block of a sheets destination before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{} }

// New builds a sheets destination from its config block.
func New(p config.Plugin) (*Destination, error) {
	spec := DefaultSpec()
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
	switch spec.Refresh {
	case "":
		spec.Refresh = AllAtOnce
	case AllAtOnce, TabByTab:
	default:
		errs = append(errs, p.PluginErrorf("refresh", "refresh must be %s (the default) or %s, not %q", AllAtOnce, TabByTab, spec.Refresh))
	}
	if err := googleauth.CheckCredentials(p, spec.CredentialsFile); err != nil {
		errs = append(errs, err)
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

// Target is the spreadsheet: two destinations on one would remove each
// other's staging tabs and overwrite _meta.
func (d *Destination) Target() string { return "spreadsheet " + d.spec.SpreadsheetID }

// Describe says where the destination publishes.
func (d *Destination) Describe() string { return "Google Sheets spreadsheet " + d.spec.SpreadsheetID }

func (d *Destination) service(ctx context.Context) (*gsheets.Service, error) {
	auth, err := googleauth.ClientOptions(ctx, googleauth.Settings{Service: "sheets", Scopes: []string{gsheets.SpreadsheetsScope}, CredentialsFile: config.ExpandPath(d.spec.CredentialsFile), Endpoint: d.spec.Endpoint}, d.opts...)
	if err != nil {
		return nil, err
	}
	svc, err := gsheets.NewService(ctx, auth...)
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
	err := d.backoff.Do(ctx, "read spreadsheet", retryable, func(ctx context.Context) (err error) {
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

func retryable(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500
	}
	var nerr net.Error
	return errors.As(err, &nerr) // connection reset, timeout: the answer was lost
}

// explain says what to do about refused credentials and permission errors.
func (d *Destination) explain(err error) error {
	if googleauth.Unauthorized(err) {
		return googleauth.Explain(err)
	}
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
