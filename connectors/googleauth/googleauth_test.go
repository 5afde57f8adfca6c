package googleauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"
)

// writeKey writes a service-account key file with fields overridden by
// set (a nil value deletes the field) and returns its path.
func writeKey(t *testing.T, set map[string]any) string {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]any{
		"type": "service_account", "project_id": "p", "private_key_id": "abc",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "uptake@p.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token",
	}
	for k, v := range set {
		if v == nil {
			delete(key, k)
		} else {
			key[k] = v
		}
	}
	b, _ := json.MarshalIndent(key, "", "  ")
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckKeyFileAcceptsAServiceAccountKey(t *testing.T) {
	if err := CheckKeyFile(writeKey(t, nil)); err != nil {
		t.Fatal(err)
	}
}

// Each way a key file goes wrong names the file and what is wrong.
func TestCheckKeyFileSaysWhatIsWrong(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	cases := []struct {
		name, path string
		want       []string
	}{
		{"missing", missing, []string{missing, "does not exist"}},
		{"empty", writeFile(t, ""), []string{"key.json", "the file is empty"}},
		{"not JSON", writeFile(t, "{\n  \"type\": \"service_account\",\n  oops\n}"), []string{"key.json", "line 3, column 3"}},
		{"a field of the wrong type", writeFile(t, `{"type": 7}`), []string{"key.json", "line 1, column"}},
		{"user credentials", writeKey(t, map[string]any{"type": "authorized_user"}), []string{"\"authorized_user\" credentials", "gcloud auth application-default login"}},
		{"no type", writeKey(t, map[string]any{"type": nil}), []string{"no \"type\" field"}},
		{"no e-mail", writeKey(t, map[string]any{"client_email": nil}), []string{"without client_email"}},
		{"no key", writeKey(t, map[string]any{"private_key": nil, "client_email": nil}), []string{"without client_email and private_key"}},
		{"key not PEM", writeKey(t, map[string]any{"private_key": "MIIEvQIBADANBg"}), []string{"uptake@p.iam.gserviceaccount.com", "is not a PEM block"}},
		{"key truncated", writeKey(t, map[string]any{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"}), []string{"does not parse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckKeyFile(c.path)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "credentials_file") {
				t.Errorf("%v: does not name the setting", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: want %q", err, w)
				}
			}
		})
	}
}

// A key file is checked even when an endpoint is set (no credentials are
// sent to the endpoint, but a broken file is still a broken config).
func TestClientOptionsChecksTheKeyFileAlsoWithAnEndpoint(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone.json")
	ctx := context.Background()
	_, err := ClientOptions(ctx, Settings{Service: "bigquery", CredentialsFile: missing, Endpoint: "http://127.0.0.1:9050"})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("want an error naming %s, got %v", missing, err)
	}
	if _, err := ClientOptions(ctx, Settings{Service: "bigquery", CredentialsFile: writeKey(t, nil), Endpoint: "http://127.0.0.1:9050", APIPath: "bigquery/v2/"}); err != nil {
		t.Fatal(err)
	}
	// Application Default Credentials: here, the key GOOGLE_APPLICATION_CREDENTIALS names.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", writeKey(t, nil))
	if _, err := ClientOptions(ctx, Settings{Service: "sheets"}); err != nil {
		t.Fatalf("ADC: %v", err)
	}
}

// A key the token endpoint refuses (a deleted key: invalid_grant) fails
// the real Sheets client with a hint; so does a 401 from the API itself.
func TestRefusedCredentialsGetAHint(t *testing.T) {
	var tokenCalls int
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls++
		if r.Method != http.MethodPost || r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.FormValue("assertion") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
	}))
	defer token.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the API was called without a token: %s", r.URL)
	}))
	defer api.Close()
	path := writeKey(t, map[string]any{"token_uri": token.URL})
	opts, err := ClientOptions(context.Background(), Settings{Service: "sheets", Scopes: []string{gsheets.SpreadsheetsScope}, CredentialsFile: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := gsheets.NewService(ctx, append(opts, optionEndpoint(api.URL))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Spreadsheets.Get("sheet").Context(ctx).Do()
	if err == nil || tokenCalls == 0 {
		t.Fatalf("err %v after %d token calls", err, tokenCalls)
	}
	if got := Explain(err).Error(); !strings.Contains(got, "refused (401)") || !strings.Contains(got, "invalid_grant") {
		t.Errorf("no hint: %s", got)
	}
	api401 := &googleapi.Error{Code: 401, Message: "Request had invalid authentication credentials."}
	if got := Explain(api401).Error(); !strings.Contains(got, "refused (401)") {
		t.Errorf("no hint for an API 401: %s", got)
	}
	if got := Explain(&googleapi.Error{Code: 403}); got.Error() != (&googleapi.Error{Code: 403}).Error() {
		t.Errorf("a 403 is not a refused credential: %s", got)
	}
	if Explain(nil) != nil || !errors.Is(Explain(api401), api401) {
		t.Error("Explain must keep the error")
	}
}

func optionEndpoint(url string) option.ClientOption { return option.WithEndpoint(url + "/") }

// A broken file named by GOOGLE_APPLICATION_CREDENTIALS is named with the
// variable; an endpoint needs no credentials, so the variable is not read then.
func TestBrokenADCFileIsNamed(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ content, want string }{
		{"", "is not a credentials file: the file is empty"},
		{`{"type": "service_account",`, "line 1"},
		{`{"client_email": "x"}`, `no "type" field`},
	} {
		path := writeFile(t, c.content)
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
		_, err := ClientOptions(ctx, Settings{Service: "bigquery"})
		if err == nil || !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS="+path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v", c.content, err)
		}
		if _, err := ClientOptions(ctx, Settings{Service: "bigquery", Endpoint: "http://127.0.0.1:9050"}); err != nil {
			t.Errorf("with an endpoint: %v", err)
		}
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "gone.json"))
	if _, err := ClientOptions(ctx, Settings{Service: "sheets"}); err == nil || !strings.Contains(err.Error(), "gone.json") {
		t.Errorf("missing: %v", err)
	}
}
