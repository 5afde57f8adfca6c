// Package starter writes the commented config a new setup starts from: the
// one `uptake init` writes, and those of examples/ (one per common setup).
// Every secret is an environment variable (${VAR}); every value the user
// must supply and did not is marked change-me.
package starter

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/uptake-dev/uptake/config"
)

// Setup is what a config is made for.
type Setup struct {
	// Exports is where the platform's exports are: local, gcs, sftp or https.
	Exports string
	// ExportsAt is their folder: a local folder, or the URL of the remote
	// folder (gs://bucket/folder, sftp://user@host/folder,
	// https://host/folder); empty gives a CHANGE-ME placeholder.
	ExportsAt string
	// GA4 is the web shop's Google Analytics 4: none, api (the Data API)
	// or export (the GA4 export in BigQuery).
	GA4 string
	// GA4Property is the GA4 property id (api); GA4Project and GA4Dataset
	// hold the export (export).
	GA4Property, GA4Project, GA4Dataset string
	// BigQuery publishes to BigQuery too: its project and dataset.
	BigQuery                         bool
	BigQueryProject, BigQueryDataset string
	// Sheets publishes to Google Sheets too: the spreadsheet's id.
	Sheets        bool
	SpreadsheetID string
}

// Choices are the accepted values of Setup's enumerations.
var (
	ExportsChoices = []string{"local", "gcs", "sftp", "https"}
	GA4Choices     = []string{"none", "api", "export"}
)

// ChangeMe marks a value the user must replace.
const ChangeMe = "change-me"

//go:embed uptake.yaml.tmpl
var configTemplate string

var tmpl = template.Must(template.New("uptake.yaml").Funcs(template.FuncMap{"q": quote}).Parse(configTemplate))

// quote writes a value as a YAML double-quoted string, so that a space, a
// # or a colon in it stays part of it.
func quote(s string) string { return strconv.Quote(s) }

// Check tells what is wrong with a setup's choices.
func (s Setup) Check() error {
	if !slices.Contains(ExportsChoices, s.Exports) {
		return fmt.Errorf("exports must be one of %s, not %q", strings.Join(ExportsChoices, ", "), s.Exports)
	}
	if !slices.Contains(GA4Choices, s.GA4) {
		return fmt.Errorf("ga4 must be one of %s, not %q", strings.Join(GA4Choices, ", "), s.GA4)
	}
	if s.GA4 == "api" && (s.GA4Property == "" || strings.Trim(s.GA4Property, "0123456789") != "") {
		return fmt.Errorf("ga4 api: the GA4 property id is needed, a number (Admin > Property details), not %q", s.GA4Property)
	}
	if s.GA4 == "export" && s.GA4Dataset == "" {
		return fmt.Errorf("ga4 export: the export's dataset is needed (analytics_<property id>)")
	}
	at := strings.TrimRight(s.ExportsAt, "/")
	want := map[string]string{"gcs": "gs://", "sftp": "sftp://", "https": "https://"}[s.Exports]
	if at != "" && want != "" && !strings.HasPrefix(at, want) {
		return fmt.Errorf("exports on %s: the folder must be a URL starting with %s, not %q", s.Exports, want, s.ExportsAt)
	}
	if s.Exports != "local" && strings.ContainsAny(s.ExportsAt, "?#") {
		return fmt.Errorf("the exports' folder %q holds a query string or a fragment: give the folder alone (a signed URL's token goes in a file's path in the config)", s.ExportsAt)
	}
	if at != "" && s.Exports == "local" && strings.Contains(at, "://") {
		return fmt.Errorf("exports on local: %q is a URL; choose gcs, sftp or https", s.ExportsAt)
	}
	return nil
}

// Render writes the config of the setup.
func (s Setup) Render() ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	v := s.values()
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Env lists the environment variables the setup's config reads, sorted.
func (s Setup) Env() []string {
	out, err := s.Render()
	if err != nil {
		return nil
	}
	names, err := config.EnvVars(out)
	if err != nil {
		return nil
	}
	return names
}

// values are the template's: the setup with placeholders filled in.
type values struct {
	Setup
	At string // the exports' folder or URL, without a trailing slash
}

func (s Setup) values() values {
	v := values{Setup: s, At: strings.TrimRight(s.ExportsAt, "/")}
	if v.At == "" {
		v.At = map[string]string{
			"local": "exports", "gcs": "gs://" + ChangeMe + "/platform",
			"sftp": "sftp://uptake@" + ChangeMe + "/exports", "https": "https://" + ChangeMe + "/exports",
		}[s.Exports]
	}
	fill := func(p *string) {
		if *p == "" {
			*p = ChangeMe
		}
	}
	fill(&v.GA4Project)
	fill(&v.BigQueryProject)
	fill(&v.SpreadsheetID)
	if v.BigQueryDataset == "" {
		v.BigQueryDataset = "uptake"
	}
	return v
}
