// Package googleauth gives the Google connectors (bigquery, sheets, ga4,
// ga4_bigquery) one way to build their client options and one reading of
// their credentials: a key file that is missing, unreadable or malformed is
// an error naming the file and what is wrong with it, found when the config
// is read (also when an endpoint is set), not at the first request; and a
// refused credential gets a hint.
package googleauth

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"cloud.google.com/go/auth"
	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/uptake-dev/uptake/config"
)

// Settings are a Google connector's connection settings.
type Settings struct {
	// Service names the API in log lines (bigquery, sheets, ga4).
	Service string
	// Scopes are the OAuth scopes the client asks for.
	Scopes []string
	// CredentialsFile is a service-account key file (already expanded);
	// empty uses Application Default Credentials.
	CredentialsFile string
	// Endpoint is another address of the API (an emulator, a fake): no
	// credentials are sent to it.
	Endpoint string
	// APIPath is appended to Endpoint ("bigquery/v2/" for BigQuery, "" for
	// Sheets and the GA4 Data API, whose paths the client adds).
	APIPath string
}

// ClientOptions checks the key file (when one is set) and returns the
// options of a client: the endpoint without authentication, else the key
// file, else Application Default Credentials; and an HTTP client whose
// transport logs every retry at WARN (see retryLogger). Options given in
// override (tests that bring their own HTTP client) come last and replace
// that client.
func ClientOptions(ctx context.Context, s Settings, override ...option.ClientOption) ([]option.ClientOption, error) {
	if s.CredentialsFile != "" {
		if err := CheckKeyFile(s.CredentialsFile); err != nil {
			return nil, err
		}
	}
	if s.CredentialsFile == "" && s.Endpoint == "" {
		if err := checkADCFile(); err != nil {
			return nil, err
		}
	}
	opts := []option.ClientOption{option.WithScopes(s.Scopes...)}
	switch {
	case s.Endpoint != "":
		opts = append(opts, option.WithEndpoint(strings.TrimRight(s.Endpoint, "/")+"/"+s.APIPath), option.WithoutAuthentication())
	case s.CredentialsFile != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, s.CredentialsFile))
	}
	if len(override) > 0 {
		return append(opts, override...), nil
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	t, err := htransport.NewTransport(ctx, newRetryLogger(s.Service, base), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s client: %w", s.Service, err)
	}
	return append(opts, option.WithHTTPClient(&http.Client{Transport: t})), nil
}

// checkADCFile reads the file GOOGLE_APPLICATION_CREDENTIALS names, when
// set, and says what is wrong with it naming the variable: Google's own
// message names neither the file nor the setting.
func checkADCFile() error {
	path := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("GOOGLE_APPLICATION_CREDENTIALS=%s: %w", path, err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("GOOGLE_APPLICATION_CREDENTIALS=%s is not a credentials file: %s", path, jsonProblem(data, err))
	}
	if v["type"] == nil {
		return fmt.Errorf("GOOGLE_APPLICATION_CREDENTIALS=%s is not a credentials file: it has no \"type\" field", path)
	}
	return nil
}

// serviceAccountKey holds the fields of a key file that a client needs.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// CheckKeyFile reads a service-account key file (the JSON file the Google
// Cloud console downloads) and says which file and what is wrong with it:
// missing, unreadable, not JSON (with line and column), another kind of
// credentials, a missing field, or a private key that does not parse.
func CheckKeyFile(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("credentials_file %s does not exist", path)
	}
	if err != nil {
		return fmt.Errorf("credentials_file %s: %w", path, err)
	}
	var key serviceAccountKey
	if err := json.Unmarshal(data, &key); err != nil {
		return fmt.Errorf("credentials_file %s is not a service-account key: %s", path, jsonProblem(data, err))
	}
	switch key.Type {
	case "service_account":
	case "":
		return fmt.Errorf("credentials_file %s is not a service-account key: it has no \"type\" field (a key downloaded from IAM > Service accounts > Keys has \"type\": \"service_account\")", path)
	default:
		return fmt.Errorf("credentials_file %s holds %q credentials, not a service-account key (\"type\": \"service_account\"); "+
			"to use your own account, leave credentials_file empty and run `gcloud auth application-default login`", path, key.Type)
	}
	var missing []string
	if key.ClientEmail == "" {
		missing = append(missing, "client_email")
	}
	if key.PrivateKey == "" {
		missing = append(missing, "private_key")
	}
	if len(missing) > 0 {
		return fmt.Errorf("credentials_file %s is a service-account key without %s: download a new key", path, strings.Join(missing, " and "))
	}
	if err := checkPrivateKey(key.PrivateKey); err != nil {
		return fmt.Errorf("credentials_file %s: the private_key of %s %v: download a new key", path, key.ClientEmail, err)
	}
	return nil
}

// checkPrivateKey parses a PEM RSA key as Google's token source does.
func checkPrivateKey(s string) error {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return errors.New("is not a PEM block (-----BEGIN PRIVATE KEY----- ...)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("has text after its PEM block")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return fmt.Errorf("does not parse (%v)", err)
	}
	return nil
}

// jsonProblem says where a JSON document goes wrong (line and column).
func jsonProblem(data []byte, err error) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "the file is empty"
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	offset := int64(-1)
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset - 1 // the offending byte is the last one read
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return err.Error()
	}
	offset = min(max(offset, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// Unauthorized tells whether err is a refused credential: a 401 from the
// API, or a token the OAuth server would not give (a deleted or disabled
// key, a revoked login).
func Unauthorized(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusUnauthorized {
		return true
	}
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		return true
	}
	var aerr *auth.Error // the token endpoint's answer, through cloud.google.com/go/auth
	return errors.As(err, &aerr) && !aerr.Temporary()
}

// Hint401 is what to do about a refused credential.
const Hint401 = "The credentials were refused (401): the key may have been deleted or disabled (IAM > Service accounts > Keys), " +
	"the login may have expired (gcloud auth application-default login), or this machine's clock may be off; " +
	"check credentials_file or GOOGLE_APPLICATION_CREDENTIALS"

// Explain adds Hint401 to a refused credential; other errors are returned as they are.
func Explain(err error) error {
	if err != nil && Unauthorized(err) {
		return fmt.Errorf("%w\n  %s", err, Hint401)
	}
	return err
}

// CheckCredentials checks a connector's credentials_file setting (when set)
// as the config is read, naming the config file and line.
func CheckCredentials(p config.Plugin, credentialsFile string) error {
	if credentialsFile == "" {
		return nil
	}
	if err := CheckKeyFile(config.ExpandPath(credentialsFile)); err != nil {
		return p.PluginErrorf("credentials_file", "%v", err)
	}
	return nil
}

// BigQueryEmulatorHostEnv is the variable the BigQuery emulator's users
// set (host:port), as the Google Cloud emulators do.
const BigQueryEmulatorHostEnv = "BIGQUERY_EMULATOR_HOST"

// BigQueryEndpoint is a BigQuery connector's endpoint: the endpoint
// setting, else http://$BIGQUERY_EMULATOR_HOST when that is set, else ""
// (Google's, with credentials).
func BigQueryEndpoint(setting string) string {
	if setting != "" {
		return setting
	}
	if h := os.Getenv(BigQueryEmulatorHostEnv); h != "" {
		return "http://" + h
	}
	return ""
}
