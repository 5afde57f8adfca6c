package bqfake

import (
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// execCtx runs the statements of one query job.
type execCtx struct {
	s        *Server
	location string // job location; set from the first table if empty
	dryRun   bool
	params   map[string]param
	pending  []tkey // tables written by the DML statements not committed yet, once per statement
}

type param struct {
	v   any
	typ string
}

type tkey struct{ dataset, table string }

// overlay holds copy-on-write working copies of the tables a statement or
// transaction changes.
type overlay map[tkey]*table

// runScript runs a query. Statements outside a transaction take effect one
// by one (like BigQuery, a failing statement does not undo the statements
// before it); statements between BEGIN TRANSACTION and COMMIT TRANSACTION
// take effect together at COMMIT, or not at all if any fails.
func (ec *execCtx) runScript(sql string, qps []*bq.QueryParameter) (*queryResult, *bq.JobStatistics2, int64, *apiError) {
	if err := ec.setParams(qps); err != nil {
		return nil, nil, 0, err
	}
	stmts, err := parseScript(sql)
	if err != nil {
		return nil, nil, 0, err
	}
	last := &queryResult{}
	var tx overlay
	var inserted, deleted int64
	for _, st := range stmts {
		switch st.kind {
		case stmtBegin:
			if tx != nil {
				return nil, nil, 0, queryErrf("Transaction is already in progress; nested transactions are not supported")
			}
			tx = overlay{}
			continue
		case stmtCommit:
			if tx == nil {
				return nil, nil, 0, queryErrf("COMMIT_TRANSACTION requires a transaction in progress, but there is none")
			}
			if err := ec.commit(tx); err != nil {
				return nil, nil, 0, err
			}
			tx = nil
			continue
		}
		ov := tx
		if ov == nil {
			ov = overlay{}
		}
		res, err := ec.exec(st, ov)
		if err != nil {
			return nil, nil, 0, err
		}
		if tx == nil {
			if err := ec.commit(ov); err != nil {
				return nil, nil, 0, err
			}
		}
		switch st.kind {
		case stmtInsert:
			inserted += res.dmlRows
		case stmtDelete:
			deleted += res.dmlRows
		}
		last = res
	}
	if tx != nil {
		return nil, nil, 0, queryErrf("Transaction started by BEGIN TRANSACTION was not committed or rolled back by the end of the script; its changes were discarded")
	}
	stats := &bq.JobStatistics2{StatementType: stmts[0].kind, TotalBytesProcessed: 0, ForceSendFields: []string{"CacheHit", "TotalBytesProcessed"}}
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
		if d := ec.s.datasets[k.dataset]; d != nil {
			t.touch()
			d.tables[k.table] = t
		}
	}
	return nil
}

// table resolves a table for reading (forWrite false) or writing (a working
// copy in ov). Tables must live in the job's location.
func (ec *execCtx) table(n tableName, ov overlay, forWrite bool) (*table, tkey, *apiError) {
	s := ec.s
	d := s.datasets[n.dataset]
	if d != nil && n.project == s.project {
		if ec.location == "" {
			ec.location = d.location
		}
		if !strings.EqualFold(ec.location, d.location) {
			d = nil
		}
	}
	if d == nil || n.project != s.project {
		return nil, tkey{}, notFoundf("Not found: Dataset %s:%s was not found in location %s", n.project, n.dataset, locOrUS(ec.location))
	}
	key := tkey{n.dataset, n.table}
	if w, ok := ov[key]; ok {
		return w, key, nil
	}
	t := s.liveTable(n.dataset, n.table)
	if t == nil {
		return nil, key, notFoundf("Not found: Table %s:%s.%s was not found in location %s", n.project, n.dataset, n.table, ec.location)
	}
	if forWrite {
		t = t.cloneTable()
		ov[key] = t
	}
	return t, key, nil
}

// exec runs a statement other than BEGIN and COMMIT on the tables of ov.
func (ec *execCtx) exec(st statement, ov overlay) (*queryResult, *apiError) {
	t, key, err := ec.table(st.table, ov, st.kind != stmtCount)
	if err != nil {
		return nil, err
	}
	switch st.kind {
	case stmtCount:
		match, err := ec.compile(st.where, t.Schema)
		if err != nil {
			return nil, err
		}
		n := int64(0)
		for _, r := range t.Rows {
			if match(r) {
				n++
			}
		}
		return &queryResult{fields: []Field{{Name: "f0_", Type: "INTEGER", Mode: "NULLABLE"}}, rows: []map[string]any{{"f0_": n}}}, nil
	case stmtDelete:
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
	}
	ec.pending = append(ec.pending, key)
	return ec.insert(st, t, ov)
}

// insert runs INSERT INTO t (cols) SELECT cols FROM source WHERE cond.
func (ec *execCtx) insert(st statement, t *table, ov overlay) (*queryResult, *apiError) {
	src, _, err := ec.table(st.source, ov, false)
	if err != nil {
		return nil, err
	}
	var targets, sources []Field
	seen := map[string]bool{}
	for i, c := range st.cols {
		tf, ok := t.field(c)
		if !ok {
			return nil, queryErrf("Column %s is not present in table %s", c, st.table)
		}
		sf, ok := src.field(c)
		if !ok {
			return nil, queryErrf("Unrecognized name: %s", c)
		}
		if seen[strings.ToLower(c)] {
			return nil, queryErrf("INSERT has columns with duplicate name: %s", c)
		}
		seen[strings.ToLower(c)] = true
		if _, ok := coerce(zeroOf(sf.Type), sf.Type, tf.Type); !ok {
			return nil, queryErrf("Query column %d has type %s which cannot be inserted into column %s, which has type %s", i+1, sqlType(sf.Type), tf.Name, sqlType(tf.Type))
		}
		targets, sources = append(targets, tf), append(sources, sf)
	}
	for _, f := range t.Schema {
		if _, listed := findField(targets, f.Name); !listed && f.Mode == "REQUIRED" {
			return nil, queryErrf("Required column value for column %s is missing", f.Name)
		}
	}
	match, err := ec.compile(st.where, src.Schema)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for _, r := range src.Rows {
		if !match(r) {
			continue
		}
		row := make(map[string]any, len(t.Schema))
		for _, f := range t.Schema {
			row[f.Name] = nil
		}
		for i, sf := range sources {
			v, _ := coerce(r[sf.Name], sf.Type, targets[i].Type)
			if v == nil && targets[i].Mode == "REQUIRED" {
				return nil, queryErrf("Cannot insert a NULL value into required column: %s", targets[i].Name)
			}
			row[targets[i].Name] = v
		}
		rows = append(rows, row)
	}
	reported := int64(len(rows)) // a skewed INSERT reports the rows it selected
	t.Rows = append(t.Rows, ec.s.skewInsert(st.table.String(), rows)...)
	return &queryResult{isDML: true, dmlRows: reported}, nil
}

// compile turns a condition into a row filter, checking its column and
// parameters against the schema as BigQuery does.
func (ec *execCtx) compile(c condition, fields []Field) (func(map[string]any) bool, *apiError) {
	switch {
	case c.text == "TRUE":
		return func(map[string]any) bool { return true }, nil
	case c.text == "FALSE":
		return func(map[string]any) bool { return false }, nil
	}
	lo, err := ec.param(c.lo)
	if err != nil {
		return nil, err
	}
	hi, err := ec.param(c.hi)
	if err != nil {
		return nil, err
	}
	if c.column == "" { // @lo <= @hi: the same answer for every row
		if lo.typ != hi.typ {
			return nil, queryErrf("No matching signature for operator <= for argument types: %s, %s", sqlType(lo.typ), sqlType(hi.typ))
		}
		cmp, ok := compareValues(lo.v, hi.v)
		holds := lo.v != nil && hi.v != nil && ok && cmp <= 0
		return func(map[string]any) bool { return holds }, nil
	}
	i, ok := findField(fields, c.column)
	if !ok {
		return nil, queryErrf("Unrecognized name: %s", c.column)
	}
	f := fields[i]
	if lo.typ != f.Type || hi.typ != f.Type {
		return nil, queryErrf("No matching signature for operator BETWEEN for argument types: %s, %s, %s", sqlType(f.Type), sqlType(lo.typ), sqlType(hi.typ))
	}
	return func(r map[string]any) bool {
		v := r[f.Name]
		if v == nil || lo.v == nil || hi.v == nil {
			return false
		}
		a, _ := compareValues(v, lo.v)
		b, _ := compareValues(v, hi.v)
		return a >= 0 && b <= 0
	}, nil
}

// param is the job's query parameter of that name.
func (ec *execCtx) param(name string) (param, *apiError) {
	p, ok := ec.params[strings.ToLower(name)]
	if !ok {
		return param{}, queryErrf("Query parameter '%s' not found", name)
	}
	return p, nil
}
