package bqfake

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
)

// normType maps a schema type name to the legacy name BigQuery reports in
// table metadata. ok is false for types the fake does not support.
func normType(t string) (string, bool) {
	switch strings.ToUpper(t) {
	case "STRING":
		return "STRING", true
	case "INTEGER", "INT64":
		return "INTEGER", true
	case "FLOAT", "FLOAT64":
		return "FLOAT", true
	case "NUMERIC":
		return "NUMERIC", true
	case "BOOLEAN", "BOOL":
		return "BOOLEAN", true
	case "DATE":
		return "DATE", true
	case "TIMESTAMP":
		return "TIMESTAMP", true
	case "DATETIME":
		return "DATETIME", true
	}
	return "", false
}

// sqlType is the GoogleSQL name of a legacy type name, as used in query
// error messages.
func sqlType(t string) string {
	switch t {
	case "INTEGER":
		return "INT64"
	case "FLOAT":
		return "FLOAT64"
	case "BOOLEAN":
		return "BOOL"
	}
	return t
}

var (
	numericMax   = new(big.Rat).SetFrac(new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), big.NewInt(1)), big.NewInt(1e9))
	numericScale = big.NewInt(1e9)
)

// fitNumeric checks that r is a valid NUMERIC: at most 9 fractional digits
// and 29 integer digits.
func fitNumeric(r *big.Rat) error {
	if new(big.Rat).Abs(r).Cmp(numericMax) > 0 {
		return fmt.Errorf("value %s is out of range for NUMERIC", r.FloatString(9))
	}
	if !new(big.Rat).Mul(r, new(big.Rat).SetInt(numericScale)).IsInt() {
		return fmt.Errorf("value %s has more than 9 digits after the decimal point", r.RatString())
	}
	return nil
}

// parseValue converts the textual form of a value (CSV field, query
// parameter value, JSON string) to the Go value for type typ.
func parseValue(s, typ string) (any, error) {
	switch typ {
	case "STRING":
		return s, nil
	case "INTEGER":
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case "FLOAT":
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	case "NUMERIC":
		r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
		if !ok {
			return nil, fmt.Errorf("invalid NUMERIC value %q", s)
		}
		return r, fitNumeric(r)
	case "BOOLEAN":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "t", "yes", "y":
			return true, nil
		case "false", "0", "f", "no", "n":
			return false, nil
		}
		return nil, fmt.Errorf("invalid BOOL value %q", s)
	case "DATE":
		return civil.ParseDate(strings.TrimSpace(s))
	case "DATETIME":
		v := strings.Replace(strings.TrimSpace(s), " ", "T", 1)
		return civil.ParseDateTime(v)
	case "TIMESTAMP":
		return parseTimestamp(s)
	}
	return nil, fmt.Errorf("unsupported type %s", typ)
}

func parseTimestamp(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimSuffix(strings.TrimSuffix(v, " UTC"), "+00")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid TIMESTAMP value %q", s)
}

// coerce converts a value of type from to type to, following BigQuery's
// implicit coercions (INT64 to FLOAT64/NUMERIC, NUMERIC to FLOAT64).
func coerce(v any, from, to string) (any, bool) {
	if v == nil {
		return nil, true
	}
	if from == to {
		return v, true
	}
	switch {
	case from == "INTEGER" && to == "FLOAT":
		return float64(v.(int64)), true
	case from == "INTEGER" && to == "NUMERIC":
		return new(big.Rat).SetInt64(v.(int64)), true
	case from == "NUMERIC" && to == "FLOAT":
		f, _ := v.(*big.Rat).Float64()
		return f, true
	}
	return nil, false
}

// compareValues orders two non-nil values of compatible types.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, y), true
		case float64:
			return cmpOrdered(float64(x), y), true
		case *big.Rat:
			return new(big.Rat).SetInt64(x).Cmp(y), true
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, float64(y)), true
		case float64:
			return cmpOrdered(x, y), true
		case *big.Rat:
			f, _ := y.Float64()
			return cmpOrdered(x, f), true
		}
	case *big.Rat:
		switch y := b.(type) {
		case int64:
			return x.Cmp(new(big.Rat).SetInt64(y)), true
		case float64:
			f, _ := x.Float64()
			return cmpOrdered(f, y), true
		case *big.Rat:
			return x.Cmp(y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		}
	case civil.Date:
		if y, ok := b.(civil.Date); ok {
			return x.Compare(y), true
		}
	case civil.DateTime:
		if y, ok := b.(civil.DateTime); ok {
			return x.Compare(y), true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	}
	return 0, false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// encodeCell renders a value in the string form of the REST API's f/v rows.
// TIMESTAMP is microseconds since the epoch when int64ts is set (what the Go
// client asks for), otherwise floating-point seconds.
func encodeCell(v any, int64ts bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		case math.IsNaN(x):
			return "NaN"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Rat:
		return strings.TrimRight(strings.TrimRight(x.FloatString(9), "0"), ".")
	case bool:
		return strconv.FormatBool(x)
	case civil.Date:
		return x.String()
	case civil.DateTime:
		return x.Date.String() + "T" + x.Time.String()
	case time.Time:
		if int64ts {
			return strconv.FormatInt(x.UnixMicro(), 10)
		}
		return strconv.FormatFloat(float64(x.UnixMicro())/1e6, 'E', -1, 64)
	}
	return fmt.Sprint(v)
}

// partitionKey is the partition id ("20260901", "202609", ...) a value of a
// partitioning column falls in, or "__NULL__".
func partitionKey(v any, ptype string) string {
	var t time.Time
	switch x := v.(type) {
	case nil:
		return "__NULL__"
	case civil.Date:
		t = x.In(time.UTC)
	case civil.DateTime:
		t = x.In(time.UTC)
	case time.Time:
		t = x.UTC()
	default:
		return "__UNPARTITIONED__"
	}
	switch ptype {
	case "HOUR":
		return t.Format("2006010215")
	case "MONTH":
		return t.Format("200601")
	case "YEAR":
		return t.Format("2006")
	}
	return t.Format("20060102")
}

// zeroOf is a sample non-NULL value of a type, used to check coercions.
func zeroOf(typ string) any {
	v, _ := parseValue(map[string]string{
		"STRING": "", "INTEGER": "0", "FLOAT": "0", "NUMERIC": "0", "BOOLEAN": "false",
		"DATE": "1970-01-01", "DATETIME": "1970-01-01T00:00:00", "TIMESTAMP": "1970-01-01T00:00:00Z",
	}[typ], typ)
	return v
}
