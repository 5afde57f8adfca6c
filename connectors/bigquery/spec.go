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
	// Project is the id of the Google Cloud project that holds the dataset
	// and runs the jobs. Required.
	Project string `yaml:"project"`
	// Dataset is the dataset of the published tables, in letters, digits
	// and underscores (created in `location` when missing). Required.
	Dataset string `yaml:"dataset"`
	// Location is where the dataset lives and the jobs run: `EU`, `US`,
	// `europe-west1`… Required.
	Location string `yaml:"location"`
	// TablePrefix is put before every published table name, such as
	// `uptake_` (letters, digits and underscores; default: none).
	TablePrefix string `yaml:"table_prefix"`
	// CredentialsFile is a service-account key file; the account needs
	// BigQuery Data Editor on the dataset (or on the project, for uptake to
	// create the dataset) and BigQuery Job User on the project. Default:
	// Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
	// `gcloud auth application-default login`, the metadata server).
	CredentialsFile string `yaml:"credentials_file"`
	// Mode is `full` (the default: every row of a published table is
	// replaced) or `incremental` (only the rows of the run's months are
	// replaced; tables without a month or day column are replaced whole).
	Mode string `yaml:"mode"`
	// Endpoint is another address of the BigQuery API, reached without
	// credentials, such as `http://localhost:9050` for the BigQuery
	// emulator: a base URL with its scheme, `http://host:port` or
	// `https://host`, without the API's path, which uptake adds
	// (`/bigquery/v2/`; a trailing slash is dropped first). The project id
	// is then not checked against Google's rules. Default: `http://`
	// followed by the `BIGQUERY_EMULATOR_HOST` environment variable
	// (`host:port`) when that is set, else Google's; the run summary names
	// the address in use.
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
