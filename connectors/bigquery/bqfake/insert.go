package bqfake

import "strings"

// insert runs INSERT ... SELECT and INSERT ... VALUES.
func (ec *execCtx) insert(st *insertStmt, ov overlay) (*queryResult, *apiError) {
	t, key, err := ec.table(st.table, ov, true)
	if err != nil {
		return nil, err
	}
	ec.pending = append(ec.pending, key)
	tname := strings.Join(st.table.parts, ".")
	// Target columns.
	var targets []Field
	if st.cols == nil {
		targets = append(targets, t.Schema...)
	} else {
		seen := map[string]bool{}
		for _, c := range st.cols {
			i, ok := findField(t.Schema, c.name)
			if !ok {
				return nil, queryErrf("Column %s is not present in table %s at [%s]", c.name, tname, ec.at(c.pos))
			}
			if seen[strings.ToLower(c.name)] {
				return nil, queryErrf("INSERT has columns with duplicate name: %s at [%s]", c.name, ec.at(c.pos))
			}
			seen[strings.ToLower(c.name)] = true
			targets = append(targets, t.Schema[i])
		}
	}
	for _, f := range t.Schema {
		if _, listed := findField(targets, f.Name); !listed && f.Mode == "REQUIRED" {
			return nil, queryErrf("Required column value for column %s is missing at [%s]", f.Name, ec.at(st.table.pos))
		}
	}
	var rows []map[string]any
	if st.sel != nil {
		res, err := ec.selectRows(st.sel, ov)
		if err != nil {
			return nil, err
		}
		if len(res.fields) != len(targets) {
			return nil, queryErrf("Inserted row has wrong column count; Has %d, expected %d at [%s]", len(res.fields), len(targets), ec.at(st.sel.from.pos))
		}
		for i, sf := range res.fields {
			tf := targets[i]
			if _, ok := coerce(zeroOf(sf.Type), sf.Type, tf.Type, false); !ok {
				return nil, queryErrf("Query column %d has type %s which cannot be inserted into column %s, which has type %s at [%s]", i+1, sqlType(sf.Type), tf.Name, sqlType(tf.Type), ec.at(st.sel.from.pos))
			}
		}
		for _, r := range res.rows {
			row := map[string]any{}
			for i, sf := range res.fields {
				v, _ := coerce(r[sf.Name], sf.Type, targets[i].Type, false)
				row[targets[i].Name] = v
			}
			rows = append(rows, row)
		}
	} else {
		for _, vals := range st.values {
			if len(vals) != len(targets) {
				return nil, queryErrf("Inserted row has wrong column count; Has %d, expected %d at [%s]", len(vals), len(targets), ec.at(vals[0].pos))
			}
			row := map[string]any{}
			for i, ve := range vals {
				v, typ, literal, err := ec.resolve(ve)
				if err != nil {
					return nil, err
				}
				tf := targets[i]
				cv, ok := coerce(v, typ, tf.Type, literal)
				if typ == "" {
					cv, ok = nil, true
				}
				if !ok {
					return nil, queryErrf("Value has type %s which cannot be inserted into column %s, which has type %s at [%s]", sqlType(typ), tf.Name, sqlType(tf.Type), ec.at(ve.pos))
				}
				row[tf.Name] = cv
			}
			rows = append(rows, row)
		}
	}
	for _, row := range rows {
		for _, f := range t.Schema {
			v, ok := row[f.Name]
			if !ok {
				row[f.Name] = nil
			}
			if v == nil && f.Mode == "REQUIRED" {
				return nil, queryErrf("Cannot insert a NULL value into required column: %s", f.Name)
			}
		}
	}
	reported := int64(len(rows)) // a skewed INSERT reports the rows it selected
	t.Rows = append(t.Rows, ec.s.skewInsert(tname, rows)...)
	return &queryResult{isDML: true, dmlRows: reported}, nil
}

// zeroOf is a sample non-NULL value of a type, used to check coercions.
func zeroOf(typ string) any {
	v, _ := parseValue(map[string]string{
		"STRING": "", "INTEGER": "0", "FLOAT": "0", "NUMERIC": "0", "BOOLEAN": "false",
		"DATE": "1970-01-01", "DATETIME": "1970-01-01T00:00:00", "TIMESTAMP": "1970-01-01T00:00:00Z",
	}[typ], typ)
	return v
}
