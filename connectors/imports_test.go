package connectors_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConnectorsDoNotReachIntoTheWarehouse: connectors hand rows to the
// engine (Run.Rows, Run.Files) and write SQL text with sql/sqltext; none
// imports the engine's warehouse package or DuckDB's driver. bqfake, a
// fake of BigQuery for tests, reads Parquet with DuckDB and is let be.
func TestConnectorsDoNotReachIntoTheWarehouse(t *testing.T) {
	forbidden := map[string]bool{
		"github.com/uptake-dev/uptake/etl/warehouse": true,
		"github.com/duckdb/duckdb-go/v2":             true,
	}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "bqfake" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[p] {
				t.Errorf("%s imports %s", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 30 {
		t.Errorf("only %d files checked", checked)
	}
}
