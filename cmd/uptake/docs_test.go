package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/config/reference"
	"github.com/uptake-dev/uptake/connectors/bigquery"
	"github.com/uptake-dev/uptake/connectors/csvexport"
	"github.com/uptake-dev/uptake/connectors/files"
	"github.com/uptake-dev/uptake/connectors/ga4"
	"github.com/uptake-dev/uptake/connectors/ga4bigquery"
	"github.com/uptake-dev/uptake/connectors/ga4file"
	"github.com/uptake-dev/uptake/connectors/sheets"
)

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#+ (.*)$`)
)

// anchor is GitHub's anchor of a heading.
func anchor(heading string) string {
	h := strings.ToLower(heading)
	h = regexp.MustCompile(`[^\p{L}\p{N}\- _]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

// TestDocsLinksResolve: every relative link of the README and docs/ names
// a file of the repository, and a heading of it when it has an anchor.
func TestDocsLinksResolve(t *testing.T) {
	root := repoRoot(t)
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	connectorPages, _ := filepath.Glob(filepath.Join(root, "connectors", "*", "README.md"))
	pages = append(pages, connectorPages...)
	pages = append(pages, filepath.Join(root, "README.md"), filepath.Join(root, "examples", "README.md"))
	for _, page := range pages {
		text := readText(t, page)
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(link, "#")
			target := page
			if file != "" {
				target = filepath.Join(filepath.Dir(page), file)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: link %s: no such file", rel(root, page), link)
				continue
			}
			if frag == "" {
				continue
			}
			found := false
			for _, h := range mdHeading.FindAllStringSubmatch(readText(t, target), -1) {
				if anchor(h[1]) == frag {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: link %s: no heading with that anchor in %s", rel(root, page), link, rel(root, target))
			}
		}
	}
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

// referenceBlocks are the config blocks of docs/reference.md.
func referenceBlocks() []reference.Block {
	plugin := []string{"name", "kind"}
	return []reference.Block{
		{Title: "Top level", Defaults: config.Defaults()},
		{Title: "Source `kind: csvexport`", Defaults: csvexport.DefaultSpec(), Skip: plugin},
		{Title: "Source `kind: ga4`", Defaults: ga4.DefaultSpec(), Skip: plugin},
		{Title: "Source `kind: ga4_bigquery`", Defaults: ga4bigquery.DefaultSpec(), Skip: plugin},
		{Title: "Source `kind: ga4_export_file`", Defaults: ga4file.DefaultSpec(), Skip: plugin},
		{Title: "Destination `kind: files`", Defaults: files.DefaultSpec(), Skip: plugin},
		{Title: "Destination `kind: bigquery`", Defaults: bigquery.DefaultSpec(), Skip: plugin},
		{Title: "Destination `kind: sheets`", Defaults: sheets.DefaultSpec(), Skip: plugin},
	}
}

const referenceHeader = `# Configuration reference

Generated from the structs the config is decoded into, their doc comments and their defaults
(` + "`UPDATE_DOCS=1 go test ./cmd/uptake -run TestConfigurationReference`" + ` rewrites it; a test fails
when it is stale). Every key of a config is here, and a key that is not is refused with its file
and line. How the settings work together: [configuration.md](configuration.md).

`

// TestConfigurationReference: docs/reference.md is what the config structs
// say today.
func TestConfigurationReference(t *testing.T) {
	root := repoRoot(t)
	body, err := reference.Markdown(root, "github.com/uptake-dev/uptake", referenceBlocks())
	if err != nil {
		t.Fatal(err)
	}
	want := referenceHeader + body
	path := filepath.Join(root, "docs", "reference.md")
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := readText(t, path); got != want {
		t.Errorf("docs/reference.md is stale: run UPDATE_DOCS=1 go test ./cmd/uptake -run TestConfigurationReference")
	}
}

// TestEveryConnectorHasAReadme: each package that registers a kind (and
// remote, which the csvexport source uses) says what it is in a README.
func TestEveryConnectorHasAReadme(t *testing.T) {
	root := repoRoot(t)
	dirs, _ := filepath.Glob(filepath.Join(root, "connectors", "*"))
	n := 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		registers := filepath.Base(dir) == "remote"
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") && strings.Contains(readText(t, f), "connectors.Register") {
				registers = true
			}
		}
		if !registers {
			continue
		}
		n++
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
			t.Errorf("%s has no README.md", rel(root, dir))
		}
	}
	if n != 8 {
		t.Errorf("%d connector folders, want 8 (7 kinds and remote)", n)
	}
}
