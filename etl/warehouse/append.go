package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// RowWriter is the engine's connectors.RowWriter on a run's connection.
type RowWriter struct{ Conn *sql.Conn }

// Append adds rows to a connection-local table (see AppendTemp).
func (w RowWriter) Append(_ context.Context, table string, rows [][]driver.Value) error {
	return AppendTemp(w.Conn, table, rows)
}

// AppendTemp adds rows to a connection-local (TEMP) table with DuckDB's
// appender: no SQL statement per row. Each row's values follow the table's
// column order. A float64 or a decimal string for a DECIMAL column is
// rounded to its scale as DuckDB's CAST does (half away from zero): the
// appender itself would store a float's bits as nonsense (19.99 as 0.19).
func AppendTemp(conn *sql.Conn, table string, rows [][]driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	decimals, err := decimalColumns(conn, table)
	if err != nil {
		return err
	}
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		for _, r := range rows {
			copied := false
			for i, d := range decimals {
				if i < len(r) && d != nil && r[i] != nil {
					if !copied { // the caller's row stays as it was
						r, copied = slices.Clone(r), true
					}
					if r[i], err = toDecimal(r[i], *d); err != nil {
						a.Close()
						return fmt.Errorf("append to %s: %w", table, err)
					}
				}
			}
			if err := a.AppendRow(r...); err != nil {
				a.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
		return a.Close()
	})
}

// decimalColumns gives, by position, the width and scale of the DECIMAL
// columns of a temp table (nil for the others).
func decimalColumns(conn *sql.Conn, table string) ([]*duckdb.Decimal, error) {
	rows, err := conn.QueryContext(context.Background(), `SELECT numeric_precision, numeric_scale, data_type LIKE 'DECIMAL%'
		FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = ? ORDER BY column_index`, table)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", table, err)
	}
	defer rows.Close()
	var out []*duckdb.Decimal
	for rows.Next() {
		var w, s sql.NullInt64
		var dec bool
		if err := rows.Scan(&w, &s, &dec); err != nil {
			return nil, err
		}
		if !dec {
			out = append(out, nil)
			continue
		}
		out = append(out, &duckdb.Decimal{Width: uint8(w.Int64), Scale: uint8(s.Int64)})
	}
	return out, rows.Err()
}

// decimalText is a number as a DECIMAL column takes it from text.
var decimalText = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// toDecimal turns a number (any integer, a float as written, that is the
// shortest decimal that reads back as it, decimal text, a decimal of
// another scale) into d's type, rounded to its scale half away from zero.
// A value with more digits than the type holds is an error, as for CAST.
func toDecimal(v driver.Value, d duckdb.Decimal) (driver.Value, error) {
	var r big.Rat
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a number", x)
		}
		r.SetString(strconv.FormatFloat(x, 'f', -1, 64))
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%v is not a number", x)
		}
		r.SetString(strconv.FormatFloat(float64(x), 'f', -1, 32))
	case string:
		t := strings.TrimSpace(x)
		if !decimalText.MatchString(t) {
			return nil, fmt.Errorf("%q is not a number", x)
		}
		r.SetString(t)
	case duckdb.Decimal:
		if x.Value == nil {
			return nil, nil
		}
		r.SetFrac(x.Value, pow10(int(x.Scale)))
	default:
		switch rv := reflect.ValueOf(v); {
		case rv.CanInt():
			r.SetInt64(rv.Int())
		case rv.CanUint():
			r.SetUint64(rv.Uint())
		default:
			return v, nil // the appender says what it cannot take
		}
	}
	r.Mul(&r, new(big.Rat).SetInt(pow10(int(d.Scale))))
	// Half away from zero: add or take a half, then truncate.
	half := big.NewRat(1, 2)
	if r.Sign() < 0 {
		r.Sub(&r, half)
	} else {
		r.Add(&r, half)
	}
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if new(big.Int).Abs(q).Cmp(pow10(int(d.Width))) >= 0 {
		return nil, fmt.Errorf("%v is too large for DECIMAL(%d, %d)", v, d.Width, d.Scale)
	}
	return duckdb.Decimal{Width: d.Width, Scale: d.Scale, Value: q}, nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
