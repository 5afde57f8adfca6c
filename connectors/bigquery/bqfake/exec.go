package bqfake

import (
	"sort"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// execCtx runs the statements of one query job.
type execCtx struct {
	s              *Server
	location       string // job location; set from the first table if empty
	defaultDataset string
	dryRun         bool
	src            string
	params         map[string]param
	pending        []tkey // tables written by the DML statements not committed yet, once per statement
}

type param struct {
	v   any
	typ string
}

type tkey struct{ dataset, table string }

// overlay holds copy-on-write working copies of the tables a statement or
// transaction changes; a nil entry is a dropped table.
type overlay map[tkey]*table

func (ec *execCtx) at(pos int) string { return position(ec.src, pos) }

// runScript parses and runs a query. Statements outside a transaction take
// effect one by one (like BigQuery, a failing statement does not undo the
// statements before it); statements between BEGIN TRANSACTION and COMMIT
// TRANSACTION take effect together at COMMIT, or not at all if any fails.
func (ec *execCtx) runScript(sql string, qps []*bq.QueryParameter) (*queryResult, *bq.JobStatistics2, int64, *apiError) {
	ec.src = sql
	if err := ec.setParams(qps); err != nil {
		return nil, nil, 0, err
	}
	stmts, err := parseScript(sql)
	if err != nil {
		return nil, nil, 0, err
	}
	last := &queryResult{}
	var tx overlay
	var txPos string
	var inserted, deleted int64
	for _, st := range stmts {
		switch st.(type) {
		case *beginStmt:
			if tx != nil {
				return nil, nil, 0, queryErrf("Transaction is already in progress; nested transactions are not supported")
			}
			tx, txPos = overlay{}, "BEGIN TRANSACTION"
			continue
		case *commitStmt, *rollbackStmt:
			if tx == nil {
				return nil, nil, 0, queryErrf("%s requires a transaction in progress, but there is none", stmtType(st))
			}
			if _, ok := st.(*commitStmt); ok {
				if err := ec.commit(tx); err != nil {
					return nil, nil, 0, err
				}
			}
			ec.pending = nil
			tx = nil
			continue
		}
		ov := tx
		if ov == nil {
			ov = overlay{}
		}
		res, err := ec.exec(st, ov, tx != nil)
		if err != nil {
			return nil, nil, 0, err
		}
		if tx == nil {
			if err := ec.commit(ov); err != nil {
				return nil, nil, 0, err
			}
		}
		if _, ok := st.(*insertStmt); ok {
			inserted += res.dmlRows
		}
		if _, ok := st.(*deleteStmt); ok {
			deleted += res.dmlRows
		}
		last = res
	}
	if tx != nil {
		return nil, nil, 0, queryErrf("Transaction started by %s was not committed or rolled back by the end of the script; its changes were discarded", txPos)
	}
	stats := &bq.JobStatistics2{StatementType: stmtType(stmts[0]), TotalBytesProcessed: 0, ForceSendFields: []string{"CacheHit", "TotalBytesProcessed"}}
	var children int64
	if len(stmts) > 1 {
		stats.StatementType = "SCRIPT"
		children = int64(len(stmts))
	} else if last.isDML {
		stats.NumDmlAffectedRows = last.dmlRows
		stats.DmlStats = &bq.DmlStatistics{InsertedRowCount: inserted, DeletedRowCount: deleted, ForceSendFields: []string{"InsertedRowCount", "DeletedRowCount", "UpdatedRowCount"}}
		stats.ForceSendFields = append(stats.ForceSendFields, "NumDmlAffectedRows")
	}
	if len(stmts) > 1 && last.isDML {
		// Like BigQuery, a script's results are those of its last statement,
		// but DML counts are reported on the child jobs only.
		last = &queryResult{}
	}
	return last, stats, children, nil
}

func stmtType(st any) string {
	switch st.(type) {
	case *beginStmt:
		return "BEGIN_TRANSACTION"
	case *commitStmt:
		return "COMMIT_TRANSACTION"
	case *rollbackStmt:
		return "ROLLBACK_TRANSACTION"
	case *deleteStmt:
		return "DELETE"
	case *insertStmt:
		return "INSERT"
	case *selectStmt:
		return "SELECT"
	case *dropStmt:
		return "DROP_TABLE"
	case *truncateStmt:
		return "TRUNCATE_TABLE"
	}
	return "UNKNOWN"
}

func (ec *execCtx) setParams(qps []*bq.QueryParameter) *apiError {
	ec.params = map[string]param{}
	for _, qp := range qps {
		if qp == nil || qp.Name == "" {
			return queryErrf("bqfake: positional query parameters are not supported")
		}
		if qp.ParameterType == nil {
			return invalidf("Query parameter %s: parameterType is required", qp.Name)
		}
		if qp.ParameterType.ArrayType != nil || len(qp.ParameterType.StructTypes) > 0 {
			return queryErrf("bqfake: query parameter %s: ARRAY and STRUCT parameters are not supported", qp.Name)
		}
		typ, ok := normType(qp.ParameterType.Type)
		if !ok {
			return invalidf("Invalid query parameter type %s for parameter %s", qp.ParameterType.Type, qp.Name)
		}
		p := param{typ: typ}
		if qp.ParameterValue != nil && (qp.ParameterValue.Value != "" || typ == "STRING") {
			v, err := parseValue(qp.ParameterValue.Value, typ)
			if err != nil {
				return invalidf("Invalid value for query parameter %s of type %s: %v", qp.Name, sqlType(typ), err)
			}
			p.v = v
		}
		ec.params[strings.ToLower(qp.Name)] = p
	}
	return nil
}

func (ec *execCtx) commit(ov overlay) *apiError {
	pending := ec.pending
	ec.pending = nil
	if ec.dryRun {
		return nil
	}
	// Every DML statement counts as a table update operation: all of them
	// take effect together, or none when one table is past its rate limit.
	if err := ec.s.takeTableUpdates(pending...); err != nil {
		return err
	}
	for k, t := range ov {
		d := ec.s.datasets[k.dataset]
		if d == nil {
			continue
		}
		if t == nil {
			delete(d.tables, k.table)
			continue
		}
		t.touch()
		d.tables[k.table] = t
	}
	return nil
}

// table resolves a table name for reading (forWrite false) or writing (a
// working copy in ov). Tables must live in the job's location.
func (ec *execCtx) table(tr tableRef, ov overlay, forWrite bool) (*table, tkey, *apiError) {
	s := ec.s
	var proj, ds, name string
	switch len(tr.parts) {
	case 3:
		proj, ds, name = tr.parts[0], tr.parts[1], tr.parts[2]
	case 2:
		proj, ds, name = s.project, tr.parts[0], tr.parts[1]
	case 1:
		if ec.defaultDataset == "" {
			return nil, tkey{}, queryErrf("Table %q must be qualified with a dataset (e.g. dataset.table). at [%s]", tr.parts[0], ec.at(tr.pos))
		}
		proj, ds, name = s.project, ec.defaultDataset, tr.parts[0]
	default:
		return nil, tkey{}, queryErrf("Invalid table name: %s at [%s]", strings.Join(tr.parts, "."), ec.at(tr.pos))
	}
	d := s.datasets[ds]
	if d != nil && proj == s.project {
		if ec.location == "" {
			ec.location = d.location
		}
		if !strings.EqualFold(ec.location, d.location) {
			d = nil
		}
	}
	if d == nil || proj != s.project {
		return nil, tkey{}, notFoundf("Not found: Dataset %s:%s was not found in location %s", proj, ds, locOrUS(ec.location))
	}
	key := tkey{ds, name}
	if w, ok := ov[key]; ok {
		if w == nil {
			return nil, key, notFoundf("Not found: Table %s:%s.%s was not found in location %s", proj, ds, name, ec.location)
		}
		return w, key, nil
	}
	t := s.liveTable(ds, name)
	if t == nil {
		return nil, key, notFoundf("Not found: Table %s:%s.%s was not found in location %s", proj, ds, name, ec.location)
	}
	if forWrite {
		t = t.cloneTable()
		ov[key] = t
	}
	return t, key, nil
}

func (ec *execCtx) exec(st any, ov overlay, inTx bool) (*queryResult, *apiError) {
	switch st := st.(type) {
	case *deleteStmt:
		t, key, err := ec.table(st.table, ov, true)
		if err != nil {
			return nil, err
		}
		ec.pending = append(ec.pending, key)
		match, err := ec.compile(st.where, t.Schema)
		if err != nil {
			return nil, err
		}
		kept := t.Rows[:0:0]
		for _, r := range t.Rows {
			if !match(r) {
				kept = append(kept, r)
			}
		}
		n := int64(len(t.Rows) - len(kept))
		t.Rows = kept
		return &queryResult{isDML: true, dmlRows: n}, nil
	case *insertStmt:
		return ec.insert(st, ov)
	case *selectStmt:
		return ec.selectRows(st, ov)
	case *dropStmt:
		if inTx {
			return nil, queryErrf("DROP TABLE statements are not supported inside a transaction: transactions cannot use DDL statements that affect permanent tables at [%s]", ec.at(st.table.pos))
		}
		_, key, err := ec.table(st.table, ov, false)
		if err != nil {
			if st.ifExists && err.Reason == "notFound" && key.table != "" {
				return &queryResult{}, nil
			}
			return nil, err
		}
		ov[key] = nil
		return &queryResult{}, nil
	case *truncateStmt:
		t, key, err := ec.table(st.table, ov, true)
		if err != nil {
			return nil, err
		}
		ec.pending = append(ec.pending, key)
		n := int64(len(t.Rows))
		t.Rows = nil
		return &queryResult{isDML: true, dmlRows: n}, nil
	}
	return nil, queryErrf("bqfake: unsupported statement %T", st)
}

// selectRows runs a SELECT and returns its result set.
func (ec *execCtx) selectRows(st *selectStmt, ov overlay) (*queryResult, *apiError) {
	t, _, err := ec.table(st.from, ov, false)
	if err != nil {
		return nil, err
	}
	match, err := ec.compile(st.where, t.Schema)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for _, r := range t.Rows {
		if match(r) {
			rows = append(rows, r)
		}
	}
	if st.count != nil {
		name := st.count.name
		if name == "" {
			name = "f0_"
		}
		return &queryResult{fields: []Field{{Name: name, Type: "INTEGER", Mode: "NULLABLE"}}, rows: []map[string]any{{name: int64(len(rows))}}}, nil
	}
	// Output columns and where they come from.
	var out []Field
	var srcNames []string
	if st.star {
		out = append(out, t.Schema...)
		for _, f := range t.Schema {
			srcNames = append(srcNames, f.Name)
		}
	}
	for _, it := range st.items {
		i, ok := findField(t.Schema, it.col.name)
		if !ok {
			return nil, queryErrf("Unrecognized name: %s at [%s]", it.col.name, ec.at(it.col.pos))
		}
		f := t.Schema[i]
		srcNames = append(srcNames, f.Name)
		if it.alias != "" {
			f.Name = it.alias
		}
		f.Mode = "NULLABLE"
		out = append(out, f)
	}
	for _, o := range st.order {
		if _, ok := findField(t.Schema, o.col.name); !ok {
			if _, ok := findField(out, o.col.name); !ok {
				return nil, queryErrf("Unrecognized name: %s at [%s]", o.col.name, ec.at(o.col.pos))
			}
		}
	}
	if len(st.order) > 0 {
		rows = append([]map[string]any(nil), rows...)
		sort.SliceStable(rows, func(a, b int) bool {
			for _, o := range st.order {
				name := o.col.name
				if i, ok := findField(t.Schema, name); ok {
					name = t.Schema[i].Name
				}
				c := nullsFirstCompare(rows[a][name], rows[b][name])
				if o.desc {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
	}
	if st.limit >= 0 && int64(len(rows)) > st.limit {
		rows = rows[:st.limit]
	}
	res := &queryResult{fields: out}
	for _, r := range rows {
		m := make(map[string]any, len(out))
		for i, f := range out {
			m[f.Name] = r[srcNames[i]]
		}
		res.rows = append(res.rows, m)
	}
	return res, nil
}

func nullsFirstCompare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	c, _ := compareValues(a, b)
	return c
}
