package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors/bigquery"
	"github.com/uptake-dev/uptake/connectors/csvexport"
	"github.com/uptake-dev/uptake/connectors/files"
	"github.com/uptake-dev/uptake/connectors/ga4"
	"github.com/uptake-dev/uptake/connectors/ga4bigquery"
	"github.com/uptake-dev/uptake/connectors/ga4file"
	"github.com/uptake-dev/uptake/connectors/sheets"
)

// TestREADMEDocumentsEveryConfigKey keeps the README's configuration
// reference in step with the structs the config is decoded into: every key
// a user can write must be named there.
func TestREADMEDocumentsEveryConfigKey(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "reference.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, spec := range []any{config.Config{}, csvexport.Spec{}, files.Spec{}, bigquery.Spec{}, sheets.Spec{}, ga4.Spec{}, ga4bigquery.Spec{}, ga4file.Spec{}} {
		for _, key := range yamlKeys(reflect.TypeOf(spec)) {
			if key == "name" || key == "kind" {
				continue
			}
			if !strings.Contains(text, "`"+key+"`") && !strings.Contains(text, "."+key+"`") {
				t.Errorf("docs/reference.md does not document the %T key %q", spec, key)
			}
		}
	}
}

// yamlKeys lists the leaf keys of a config struct (nested structs flattened
// to their own keys; plugin blocks are documented per connector).
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if strings.Contains(opts, "inline") {
			keys = append(keys, yamlKeys(ft)...)
			continue
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(config.Plugin{}) {
			keys = append(keys, yamlKeys(ft)...)
			continue
		}
		keys = append(keys, name)
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem() != reflect.TypeOf(config.Plugin{}) {
			keys = append(keys, yamlKeys(ft.Elem())...) // a list of blocks (jobs): their keys too
		}
	}
	return keys
}
