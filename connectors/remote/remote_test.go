package remote

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		url  string
		want Location // URL not compared
	}{
		{"gs://exports/platform/activity_*.csv", Location{Scheme: "gs", Host: "exports", Dir: "platform", Pattern: "activity_*.csv"}},
		{"gs://exports/users.csv", Location{Scheme: "gs", Host: "exports", Pattern: "users.csv"}},
		{"sftp://uptake@sftp.example.com:2222/out/a/establishments_*.csv", Location{Scheme: "sftp", User: "uptake", Host: "sftp.example.com:2222", Dir: "out/a", Pattern: "establishments_*.csv"}},
		{"https://x.example/dl/users.csv?token=abc", Location{Scheme: "https", Host: "x.example", Dir: "dl", Pattern: "users.csv", Query: "token=abc"}},
	} {
		got, err := Parse(c.url)
		if err != nil {
			t.Errorf("Parse(%q) = %v", c.url, err)
			continue
		}
		got.URL = ""
		if got != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.url, got, c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for url, want := range map[string]string{
		"http://x.example/a.csv":     "plain http is refused",
		"ftp://x.example/a.csv":      `unknown scheme "ftp"`,
		"gs:///a.csv":                "no bucket",
		"sftp:///a.csv":              "no host",
		"sftp://u:pw@h/a.csv":        "a password in the URL",
		"gs://u@b/a.csv":             "a user name in the URL is only for sftp",
		"gs://b/folder/":             "names a folder",
		"gs://b/2026-*/activity.csv": "wildcards are only allowed in the file name",
		"gs://b/a[.csv":              "bad pattern",
		"sftp://h/a.csv?x=1":         "a query string is only for https",
		"https://h/a.csv#part":       "fragment",
	} {
		_, err := Parse(url)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", url, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("Parse(%q) shows the password: %v", url, err)
		}
	}
}

func TestIsRemote(t *testing.T) {
	for p, want := range map[string]bool{
		"gs://b/a.csv": true, "sftp://h/a.csv": true, "https://h/a.csv": true, "http://h/a.csv": true,
		"testdata/sample/*.csv": false, "/data/x://y.csv": false, "C:\\exports\\a.csv": false, "": false,
	} {
		if got := IsRemote(p); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestRedactedHidesQueryValues(t *testing.T) {
	loc, err := Parse("https://x.example/dl/users.csv?token=s3cret&sig=abc")
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Redacted(); got != "https://x.example/dl/users.csv?sig=REDACTED&token=REDACTED" {
		t.Errorf("Redacted = %s", got)
	}
	if got := loc.FileURL("users.csv"); strings.Contains(got, "s3cret") {
		t.Errorf("FileURL = %s", got)
	}
}

func TestLocalDir(t *testing.T) {
	loc, _ := Parse("sftp://u@h.example:2222/out/a/x_*.csv")
	if got := LocalDir("/w/remote", loc); got != "/w/remote/sftp/h.example_2222/out/a" {
		t.Errorf("LocalDir = %s", got)
	}
}
