// Package sqltest opens in-memory DuckDB databases for tests: the one way
// every package's tests get a database of their own; and finds the files
// of sql/ they run.
package sqltest

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// Named is the file name of those layer lists (uptakesql.Contract, Models
// or Tests); the test fails when there is none (when the list cannot be read either).
func Named(t testing.TB, layer func() ([]uptakesql.Model, error), name string) uptakesql.Model {
	t.Helper()
	models, err := layer()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := uptakesql.Named(models, name)
	if !ok {
		t.Fatalf("sql/ has no %s.sql", name)
	}
	return m
}

// DB opens an in-memory DuckDB database, closed when the test ends. It has
// one connection, so that every statement sees the same database and its
// temporary objects.
func DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// Conn opens a connection to a new in-memory DuckDB database, closed when
// the test ends: for code that takes a connection (a source's Extract, the
// engine's steps).
func Conn(t testing.TB) *sql.Conn {
	t.Helper()
	return ConnTo(t, "")
}

// ConnTo is Conn to the database dsn names (a file, or "" for a new
// in-memory one, with DuckDB settings after "?").
func ConnTo(t testing.TB, dsn string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
