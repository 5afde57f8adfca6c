package bigquery

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	bq "cloud.google.com/go/bigquery"

	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// column is one column of an output table, as DuckDB has it.
type column struct {
	name, duckType string
}

func tableColumns(ctx context.Context, conn *sql.Conn, table string) ([]column, error) {
	cols, err := sqltext.Columns(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	out := make([]column, len(cols))
	for i, c := range cols {
		out[i] = column{name: c.Name, duckType: c.Type}
	}
	return out, nil
}

// parquetExpr is how a column is written to Parquet so that BigQuery reads
// it as its type: every integer as INT64, and timestamps as UTC instants (a
// naive TIMESTAMP holds UTC in uptake; a plain cast would read it in the
// session's time zone).
func parquetExpr(c column) string {
	col := sqltext.Ident(c.name)
	if c.duckType == "TIMESTAMP" {
		return fmt.Sprintf("timezone('UTC', %s) AS %s", col, col)
	}
	_, parquetType, _ := bqType(c.duckType)
	return fmt.Sprintf("%s::%s AS %s", col, parquetType, col)
}

// bqType maps a DuckDB type to the BigQuery type it is published as, and
// the DuckDB type the Parquet file carries for it.
func bqType(duck string) (bq.FieldType, string, error) {
	switch {
	case duck == "DATE":
		return bq.DateFieldType, "DATE", nil
	case duck == "BOOLEAN":
		return bq.BooleanFieldType, "BOOLEAN", nil
	case duck == "VARCHAR":
		return bq.StringFieldType, "VARCHAR", nil
	case duck == "DOUBLE" || duck == "FLOAT":
		return bq.FloatFieldType, "DOUBLE", nil
	case duck == "TINYINT" || duck == "SMALLINT" || duck == "INTEGER" || duck == "BIGINT" ||
		duck == "UTINYINT" || duck == "USMALLINT" || duck == "UINTEGER":
		return bq.IntegerFieldType, "BIGINT", nil
	case duck == "TIMESTAMP" || duck == "TIMESTAMP WITH TIME ZONE":
		return bq.TimestampFieldType, "TIMESTAMPTZ", nil
	case strings.HasPrefix(duck, "DECIMAL"):
		return bq.NumericFieldType, "DECIMAL(38, 9)", nil
	}
	return "", "", fmt.Errorf("no BigQuery type for DuckDB type %s", duck)
}

// schemaFor builds the BigQuery schema of an output table, each column
// described as sql/marts/schema.yml says.
func schemaFor(cols []column, doc uptakesql.TableDoc) (bq.Schema, error) {
	var s bq.Schema
	for _, c := range cols {
		t, _, err := bqType(c.duckType)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		s = append(s, &bq.FieldSchema{Name: c.name, Type: t, Description: describe(doc, c.name)})
	}
	return s, nil
}

// partitionColumn is the DATE column a table is partitioned by (month for
// the monthly tables, day for the daily one), or "".
func partitionColumn(cols []column) string {
	for _, want := range []string{"day", "month"} { // a daily table is pruned by day
		for _, c := range cols {
			if c.name == want && c.duckType == "DATE" {
				return want
			}
		}
	}
	return ""
}

// clusterColumns are the columns readers filter on most.
func clusterColumns(cols []column) []string {
	var out []string
	for _, want := range []string{"salesperson", "customer_ref"} {
		for _, c := range cols {
			if c.name == want {
				out = append(out, want)
			}
		}
	}
	return out
}

// mergeSchema compares the published schema with the new one: columns may
// only be added, at the end. It returns the schema to patch the table to:
// the published columns, described as next describes them, then the new
// ones (nil when nothing changed, descriptions included).
func mergeSchema(table string, published, next bq.Schema) (bq.Schema, error) {
	byName := map[string]*bq.FieldSchema{}
	for _, f := range next {
		byName[f.Name] = f
	}
	merged := bq.Schema{}
	changed := len(next) != len(published)
	for _, f := range published {
		n, ok := byName[f.Name]
		if !ok {
			return nil, fmt.Errorf("table %s: column %s is published but no longer produced; published columns are never dropped (give the table a new name, e.g. %s_v2)", table, f.Name, table)
		}
		if !sameType(n.Type, f.Type) {
			return nil, fmt.Errorf("table %s: column %s changed type from %s to %s; a published column keeps its type (give the table a new name, e.g. %s_v2)", table, f.Name, f.Type, n.Type, table)
		}
		field := *f
		if field.Description != n.Description {
			field.Description, changed = n.Description, true
		}
		merged = append(merged, &field)
	}
	if !changed {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, f := range published {
		seen[f.Name] = true
	}
	for _, f := range next {
		if !seen[f.Name] {
			merged = append(merged, f)
		}
	}
	return merged, nil
}

func sameType(a, b bq.FieldType) bool {
	norm := func(t bq.FieldType) bq.FieldType {
		switch t {
		case "INT64":
			return bq.IntegerFieldType
		case "FLOAT64":
			return bq.FloatFieldType
		case "BOOL":
			return bq.BooleanFieldType
		}
		return t
	}
	return norm(a) == norm(b)
}

// describe is a column's description for BigQuery: its label and
// definition, "" for a column schema.yml does not describe.
func describe(doc uptakesql.TableDoc, column string) string {
	c, ok := doc.Columns[column]
	if !ok {
		return ""
	}
	// BigQuery takes at most 1,024 characters; a long list of events in a
	// setting could pass it.
	text := []rune(c.Text())
	if len(text) > maxDescription {
		return string(text[:maxDescription-1]) + "…"
	}
	return string(text)
}

// maxDescription is BigQuery's limit on a column description, in characters.
const maxDescription = 1024
