package bqfake

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	bq "google.golang.org/api/bigquery/v2"
)

var fieldNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,299}$`)

// parseSchema validates a REST schema and converts it to Fields with
// normalized types and modes.
func parseSchema(ts *bq.TableSchema) ([]Field, *apiError) {
	if ts == nil {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []Field
	for _, f := range ts.Fields {
		if f == nil {
			return nil, invalidf("Field in schema must not be null")
		}
		if !fieldNameRe.MatchString(f.Name) {
			return nil, invalidf("Invalid field name %q. Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.", f.Name)
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return nil, invalidf("Duplicate column names in the schema are not supported. Found duplicate(s): %s", f.Name)
		}
		seen[key] = true
		if n := utf8.RuneCountInString(f.Description); n > 1024 { // TableFieldSchema.description: at most 1,024 characters
			return nil, invalidf("The description of field %s is too long: %d characters, at most 1024 are allowed.", f.Name, n)
		}
		if f.Type == "" {
			return nil, invalidf("Field %s: type must be specified", f.Name)
		}
		typ, ok := normType(f.Type)
		if !ok {
			up := strings.ToUpper(f.Type)
			switch up {
			case "RECORD", "STRUCT", "BYTES", "TIME", "BIGNUMERIC", "BIGDECIMAL", "GEOGRAPHY", "JSON", "INTERVAL", "RANGE":
				return nil, invalidf("bqfake: field %s has type %s, which the fake does not support", f.Name, up)
			}
			return nil, invalidf("Invalid value for type: %s is not a valid value", f.Type)
		}
		if len(f.Fields) > 0 {
			return nil, invalidf("Field %s is type %s but has subfields; only RECORD fields may have subfields", f.Name, typ)
		}
		mode := strings.ToUpper(f.Mode)
		switch mode {
		case "":
			mode = "NULLABLE"
		case "NULLABLE", "REQUIRED":
		case "REPEATED":
			return nil, invalidf("bqfake: field %s has mode REPEATED, which the fake does not support", f.Name)
		default:
			return nil, invalidf("Invalid value for mode: %s is not a valid value", f.Mode)
		}
		out = append(out, Field{Name: f.Name, Type: typ, Mode: mode, Description: f.Description})
	}
	return out, nil
}

func schemaResource(fields []Field) *bq.TableSchema {
	ts := &bq.TableSchema{Fields: []*bq.TableFieldSchema{}}
	for _, f := range fields {
		ts.Fields = append(ts.Fields, &bq.TableFieldSchema{Name: f.Name, Type: f.Type, Mode: f.Mode, Description: f.Description})
	}
	return ts
}

func findField(fields []Field, name string) (int, bool) {
	for i, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return i, true
		}
	}
	return -1, false
}

// validateLayout checks partitioning and clustering against a schema.
func validateLayout(fields []Field, p *Partitioning, clustering []string) *apiError {
	if p != nil {
		switch p.Type {
		case "DAY", "HOUR", "MONTH", "YEAR":
		default:
			return invalidf("Invalid value for timePartitioning.type: %s is not a valid value. Expected one of DAY, HOUR, MONTH, YEAR", p.Type)
		}
		if p.Field != "" {
			i, ok := findField(fields, p.Field)
			if !ok {
				return invalidf("The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The field %s was not found in the schema", p.Field)
			}
			f := fields[i]
			if f.Type != "DATE" && f.Type != "TIMESTAMP" && f.Type != "DATETIME" {
				return invalidf("The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: %s.", f.Type)
			}
			if f.Type == "DATE" && p.Type == "HOUR" {
				return invalidf("Partitioning by HOUR is not supported on field %s of type DATE", f.Name)
			}
		}
	}
	if len(clustering) > 4 {
		return invalidf("Too many clustering fields: %d, only 4 are allowed.", len(clustering))
	}
	seen := map[string]bool{}
	for _, c := range clustering {
		if strings.Contains(c, ".") {
			return invalidf("The field specified for clustering must be a top-level field. Invalid field: %s", c)
		}
		i, ok := findField(fields, c)
		if !ok {
			return invalidf("The field specified for clustering cannot be found in the schema.  Invalid field: %s.", c)
		}
		if fields[i].Type == "FLOAT" {
			return invalidf("Field %s is of type FLOAT which is not supported for clustering", fields[i].Name)
		}
		if seen[strings.ToLower(c)] {
			return invalidf("Duplicate clustering field %s", c)
		}
		seen[strings.ToLower(c)] = true
	}
	return nil
}

// evolveSchema checks that the new schema is a permitted evolution of the
// old one, as a tables.patch or update may make it (NULLABLE fields added,
// REQUIRED ones relaxed, nothing removed nor retyped), and returns it.
// Errors name the field the way BigQuery does ("Provided Schema does not
// match Table p:d.t. ...").
func evolveSchema(tableName string, old, proposed []Field) ([]Field, *apiError) {
	mismatch := func(format string, args ...any) *apiError {
		return invalidf("Provided Schema does not match Table %s. %s", tableName, fmt.Sprintf(format, args...))
	}
	var out []Field
	used := map[int]bool{}
	for _, of := range old {
		i, ok := findField(proposed, of.Name)
		if !ok {
			return nil, mismatch("Field %s is missing in new schema", of.Name)
		}
		used[i] = true
		nf := proposed[i]
		if nf.Type != of.Type {
			return nil, mismatch("Field %s has changed type from %s to %s", of.Name, of.Type, nf.Type)
		}
		if nf.Mode != of.Mode {
			relax := of.Mode == "REQUIRED" && nf.Mode == "NULLABLE"
			if !relax {
				return nil, mismatch("Field %s has changed mode from %s to %s", of.Name, of.Mode, nf.Mode)
			}
		}
		f := of
		f.Mode = nf.Mode
		f.Description = nf.Description
		out = append(out, f)
	}
	for i, nf := range proposed {
		if used[i] {
			continue
		}
		if nf.Mode == "REQUIRED" {
			return nil, mismatch("Cannot add required fields to an existing schema. (field: %s)", nf.Name)
		}
		out = append(out, nf)
	}
	return out, nil
}
