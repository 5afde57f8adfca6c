package bqfake

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	bq "google.golang.org/api/bigquery/v2"
)

// readCSV parses CSV load data; columns are matched to the schema by
// position, as BigQuery does.
func readCSV(data []byte, fields []Field, lc *bq.JobConfigurationLoad) ([]map[string]any, *apiError) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	if d := lc.FieldDelimiter; d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		c, _ := utf8.DecodeRuneInString(d)
		r.Comma = c
	}
	if lc.Quote != nil && *lc.Quote != `"` {
		return nil, invalidf("bqfake: only the default CSV quote character is supported")
	}
	null := lc.NullMarker
	var out []map[string]any
	line := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, readErr("Error detected while parsing row starting at position %d: %v", line, err)
		}
		if int64(line) <= lc.SkipLeadingRows {
			continue
		}
		if len(rec) > len(fields) || (len(rec) < len(fields) && !lc.AllowJaggedRows) {
			return nil, readErr("CSV table references column position %d, but line contains only %d columns.", len(fields)-1, len(rec))
		}
		row := map[string]any{}
		for i, f := range fields {
			var v any
			if i < len(rec) && rec[i] != null {
				pv, err := parseValue(rec[i], f.Type)
				if err != nil {
					return nil, readErr("Could not parse '%s' as %s for field %s (position %d) starting at line %d: %v", rec[i], sqlType(f.Type), f.Name, i, line, err)
				}
				v = pv
			}
			if v == nil && f.Mode == "REQUIRED" {
				return nil, readErr("Required field %s cannot be null (line %d).", f.Name, line)
			}
			row[f.Name] = v
		}
		out = append(out, row)
	}
	return out, nil
}

// readNDJSON parses newline-delimited JSON load data; keys are matched to
// the schema by name.
func readNDJSON(data []byte, fields []Field, ignoreUnknown bool) ([]map[string]any, *apiError) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 100<<20)
	var out []map[string]any
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, readErr("JSON parsing error in row starting at line %d: %v", line, err)
		}
		row := map[string]any{}
		for _, f := range fields {
			row[f.Name] = nil
		}
		for k, raw := range obj {
			i, ok := findField(fields, k)
			if !ok {
				if ignoreUnknown {
					continue
				}
				return nil, readErr("JSON parsing error in row starting at line %d: No such field: %s.", line, k)
			}
			f := fields[i]
			v, err := jsonValue(raw, f.Type)
			if err != nil {
				return nil, readErr("JSON parsing error in row starting at line %d: Could not convert value to %s for field %s: %v", line, sqlType(f.Type), f.Name, err)
			}
			row[f.Name] = v
		}
		for _, f := range fields {
			if f.Mode == "REQUIRED" && row[f.Name] == nil {
				return nil, readErr("JSON parsing error in row starting at line %d: Missing required field: %s.", line, f.Name)
			}
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		return nil, readErr("%v", err)
	}
	return out, nil
}

func jsonValue(raw any, typ string) (any, error) {
	switch x := raw.(type) {
	case nil:
		return nil, nil
	case string:
		return parseValue(x, typ)
	case json.Number:
		if typ == "STRING" || typ == "BOOLEAN" || typ == "DATE" || typ == "DATETIME" {
			return nil, fmt.Errorf("got number %s", x)
		}
		if typ == "TIMESTAMP" { // seconds since the epoch
			f, err := x.Float64()
			if err != nil {
				return nil, err
			}
			return time.UnixMicro(int64(math.Round(f * 1e6))).UTC(), nil
		}
		return parseValue(x.String(), typ)
	case bool:
		if typ != "BOOLEAN" {
			return nil, fmt.Errorf("got boolean")
		}
		return x, nil
	}
	return nil, fmt.Errorf("got %T", raw)
}
