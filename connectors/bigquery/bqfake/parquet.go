package bqfake

import (
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"
)

// decodeData parses uploaded load data into rows keyed by the job schema's
// field names, with values of the schema's types.
func (s *Server) decodeData(lc *bq.JobConfigurationLoad, data []byte, fields []Field) ([]map[string]any, *apiError) {
	if format := strings.ToUpper(lc.SourceFormat); format != "PARQUET" {
		return nil, invalidf("bqfake: source format %q: uptake loads PARQUET only", format)
	}
	return s.readParquet(data, fields, lc.IgnoreUnknownValues)
}

func readErr(format string, args ...any) *apiError {
	return invalidf("Error while reading data, error message: "+format, args...)
}

// duck returns the server's in-memory DuckDB, opening it on first use. The
// server lock is held.
func (s *Server) duck() (*sql.DB, error) {
	if s.db == nil {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			return nil, err
		}
		s.db = db
	}
	return s.db, nil
}

// readParquet reads a Parquet file with DuckDB and converts every value to
// the type of the schema field of the same (case-insensitive) name.
func (s *Server) readParquet(data []byte, fields []Field, ignoreUnknown bool) ([]map[string]any, *apiError) {
	f, err := os.CreateTemp("", "bqfake-*.parquet")
	if err != nil {
		return nil, errorf(500, "internalError", "bqfake: temp file: %v", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, errorf(500, "internalError", "bqfake: writing temp file: %v", werr)
	}
	db, err := s.duck()
	if err != nil {
		return nil, errorf(500, "internalError", "bqfake: opening DuckDB: %v", err)
	}
	rs, err := db.Query("SELECT * FROM read_parquet(?)", f.Name())
	if err != nil {
		return nil, readErr("The file is not a valid Parquet file: %v", err)
	}
	defer rs.Close()
	cols, err := rs.ColumnTypes()
	if err != nil {
		return nil, readErr("%v", err)
	}
	target := make([]int, len(cols))
	mapped := map[int]bool{}
	for i, c := range cols {
		k, ok := findField(fields, c.Name())
		if !ok {
			if ignoreUnknown {
				target[i] = -1
				continue
			}
			return nil, readErr("Parquet column '%s' is not present in the provided schema (no such field: %s).", c.Name(), c.Name())
		}
		if mapped[k] {
			return nil, readErr("Parquet columns map to the same field %s more than once.", fields[k].Name)
		}
		mapped[k] = true
		target[i] = k
	}
	for k, fd := range fields {
		if fd.Mode == "REQUIRED" && !mapped[k] {
			return nil, readErr("Required field %s is missing from the Parquet file.", fd.Name)
		}
	}
	var out []map[string]any
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, readErr("%v", err)
		}
		row := make(map[string]any, len(fields))
		for _, fd := range fields {
			row[fd.Name] = nil
		}
		for i, k := range target {
			if k < 0 {
				continue
			}
			fd := fields[k]
			v, err := fromDuck(vals[i], cols[i].DatabaseTypeName(), fd.Type)
			if err != nil {
				return nil, readErr("Provided schema is not compatible with the Parquet file. Field '%s' (Parquet column '%s', type %s) cannot be loaded as %s: %v", fd.Name, cols[i].Name(), cols[i].DatabaseTypeName(), fd.Type, err)
			}
			if v == nil && fd.Mode == "REQUIRED" {
				return nil, readErr("Required field %s cannot be null (row %d).", fd.Name, len(out)+1)
			}
			row[fd.Name] = v
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		return nil, readErr("%v", err)
	}
	return out, nil
}

// fromDuck converts a value scanned from DuckDB (column type dbType) to the
// Go value of BigQuery type typ, or explains why it does not fit.
func fromDuck(v any, dbType, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	i, isInt := duckInt(v)
	mismatch := fmt.Errorf("%s does not match %s", dbType, typ)
	switch typ {
	case "INTEGER":
		if isInt {
			if !i.IsInt64() {
				return nil, fmt.Errorf("value %s is out of range for INT64", i)
			}
			return i.Int64(), nil
		}
	case "FLOAT":
		if isInt {
			f, _ := new(big.Float).SetInt(i).Float64()
			return f, nil
		}
		switch x := v.(type) {
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		case duckdb.Decimal:
			return x.Float64(), nil
		}
	case "NUMERIC":
		var r *big.Rat
		switch x := v.(type) {
		case duckdb.Decimal:
			r = new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("value %v is not a valid NUMERIC", x)
			}
			r, _ = new(big.Rat).SetString(fmt.Sprintf("%.9f", x))
		default:
			if isInt {
				r = new(big.Rat).SetInt(i)
			}
		}
		if r != nil {
			return r, fitNumeric(r)
		}
	case "STRING":
		if x, ok := v.(string); ok {
			return x, nil
		}
	case "BOOLEAN":
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case "DATE":
		if x, ok := v.(time.Time); ok && dbType == "DATE" {
			return civil.DateOf(x.UTC()), nil
		}
	case "TIMESTAMP", "DATETIME":
		if x, ok := v.(time.Time); ok && strings.HasPrefix(dbType, "TIMESTAMP") {
			x = x.UTC().Truncate(time.Microsecond)
			if typ == "DATETIME" {
				return civil.DateTimeOf(x), nil
			}
			return x, nil
		}
	}
	return nil, mismatch
}

// duckInt returns integer values of any width as a big.Int.
func duckInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int8:
		return big.NewInt(int64(x)), true
	case int16:
		return big.NewInt(int64(x)), true
	case int32:
		return big.NewInt(int64(x)), true
	case int64:
		return big.NewInt(x), true
	case uint8:
		return big.NewInt(int64(x)), true
	case uint16:
		return big.NewInt(int64(x)), true
	case uint32:
		return big.NewInt(int64(x)), true
	case uint64:
		return new(big.Int).SetUint64(x), true
	case *big.Int:
		return new(big.Int).Set(x), true
	}
	return nil, false
}
