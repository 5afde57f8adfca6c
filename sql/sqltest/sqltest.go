// Package sqltest opens in-memory DuckDB databases for tests: the one way
// every package's tests get a database of their own.
package sqltest

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver
)

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
	db, err := sql.Open("duckdb", "")
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
