package https

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestFileName: which links of a listing name a file of the folder.
func TestFileName(t *testing.T) {
	folder, _ := url.Parse("https://files.example.com/exports/daily/?token=abc")
	for href, want := range map[string]string{
		"activity.csv":         "activity.csv",
		"./a:b.csv":            "a:b.csv", // Apache writes a name with a colon so
		"activity%202024.csv":  "activity 2024.csv",
		"caf%C3%A9.csv":        "café.csv",
		"/exports/daily/x.csv": "x.csv",
		"https://FILES.example.com/exports/daily/x.csv":     "x.csv",
		"https://files.example.com:443/exports/daily/x.csv": "x.csv",
		"http://files.example.com/exports/daily/x.csv":      "x.csv", // a proxy's absolute links; fetched with https all the same
		"x.csv#part":            "x.csv",
		"  x.csv\n":             "x.csv",
		"sub/":                  "",
		"sub/x.csv":             "",
		"sub%2Fx.csv":           "",
		"../":                   "",
		"..":                    "",
		".":                     "",
		"./":                    "",
		"/":                     "",
		"/exports/daily":        "",
		"/exports/x.csv":        "",
		"/exports/daily2/x.csv": "",
		"https://other.example.com/exports/daily/x.csv":      "",
		"ftp://files.example.com/exports/daily/x.csv":        "",
		"//other.example.com/exports/daily/x.csv":            "",
		"https://user@files.example.com/exports/daily/x.csv": "",
		"?C=N;O=D":               "",
		"x.csv?download=1":       "",
		"x.csv?":                 "",
		"#top":                   "",
		"mailto:ops@example.com": "",
		"javascript:void(0)":     "",
		"%zz.csv":                "",
		"":                       "",
	} {
		got, ok := fileName(href, []*url.URL{folder})
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", href, got, ok, want)
		}
	}
	// After a redirect, links are also read against where it led.
	moved, _ := url.Parse("https://files.example.com/v2/exports/index.html")
	if got, ok := fileName("x.csv", []*url.URL{folder, moved}); !ok || got != "x.csv" {
		t.Errorf("relative link after a redirect: %q %v", got, ok)
	}
	if got, ok := fileName("/v2/exports/y.csv", []*url.URL{folder, moved}); !ok || got != "y.csv" {
		t.Errorf("absolute link after a redirect: %q %v", got, ok)
	}
}

// TestListingNames: names once each in page order, entities decoded, and
// the count of links.
func TestListingNames(t *testing.T) {
	folder, _ := url.Parse("https://h/d/")
	page := `<html><body><a href="b.csv">b</a><A HREF='a&amp;b.csv'>a</A><a href=b.csv>again</a><a name=x>no href</a><a href="../">up</a><img src="c.csv"><a href="c&#46;csv">c</a>`
	names, links, err := listingNames(strings.NewReader(page), []*url.URL{folder})
	if err != nil || !slices.Equal(names, []string{"b.csv", "a&b.csv", "c.csv"}) || links != 5 {
		t.Errorf("%q %d %v", names, links, err)
	}
	defer func(m int64) { maxListing = m }(maxListing)
	maxListing = 1 << 20
	_, _, err = listingNames(&endless{}, []*url.URL{folder})
	if !errors.Is(err, errTooLarge) {
		t.Errorf("a listing too large: %v", err)
	}
}

// endless is a page of links that never ends.
type endless struct{ i int }

func (e *endless) Read(p []byte) (int, error) {
	const line = "<a href=x.csv>x</a>\n"
	for i := range p {
		p[i] = line[e.i%len(line)]
		e.i++
	}
	return len(p), nil
}
