package bigquery

import (
	"fmt"
	"regexp"

	"github.com/uptake-dev/uptake/config"
)

// Spec is the config block of a bigquery destination.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Project is the Google Cloud project that holds the dataset and runs the jobs.
	Project string `yaml:"project"`
	// Dataset receives the published tables (created when missing).
	Dataset string `yaml:"dataset"`
	// Location is where the dataset lives and the jobs run (e.g. EU, US, europe-west1).
	Location string `yaml:"location"`
	// TablePrefix is put before every published table name.
	TablePrefix string `yaml:"table_prefix"`
	// CredentialsFile is a service-account key file; empty uses Application
	// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server).
	CredentialsFile string `yaml:"credentials_file"`
	// Mode is full (replace every row, default) or incremental (replace the
	// months of the run's window only).
	Mode string `yaml:"mode"`
	// Endpoint overrides the API address, for the BigQuery emulator
	// (http://localhost:9050); no credentials are sent then. Unset, it is
	// http://$BIGQUERY_EMULATOR_HOST when that variable is set.
	Endpoint string `yaml:"endpoint"`
}

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9.:-]{4,61}[a-z0-9]$`)
	datasetRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	prefixRE  = regexp.MustCompile(`^[A-Za-z0-9_]{0,100}$`)
)

// validate checks the settings; endpoint is the API address in use ("" for
// Google's), which relaxes the project id check (emulators take any).
func (s *Spec) validate(p config.Plugin, endpoint string) []error {
	var errs []error
	if s.Project == "" {
		errs = append(errs, p.PluginErrorf("project", "project is required"))
	} else if !projectRE.MatchString(s.Project) && endpoint == "" {
		errs = append(errs, p.PluginErrorf("project", "%q is not a Google Cloud project id", s.Project))
	}
	if !datasetRE.MatchString(s.Dataset) || len(s.Dataset) > 1024 {
		errs = append(errs, p.PluginErrorf("dataset", "dataset must be letters, digits and underscores, not %q", s.Dataset))
	}
	if s.Location == "" {
		errs = append(errs, p.PluginErrorf("location", "location is required (e.g. EU, US, europe-west1): the dataset and every job run there"))
	}
	if !prefixRE.MatchString(s.TablePrefix) {
		errs = append(errs, p.PluginErrorf("table_prefix", "table_prefix must be letters, digits and underscores"))
	}
	switch s.Mode {
	case "", "full", "incremental":
	default:
		errs = append(errs, p.PluginErrorf("mode", "mode must be full or incremental, not %q", s.Mode))
	}
	return errs
}

// String names the dataset ("project.dataset (location)").
func (s *Spec) String() string {
	return fmt.Sprintf("%s.%s (%s)", s.Project, s.Dataset, s.Location)
}
