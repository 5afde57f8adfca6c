package bqfake

import (
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// runLoadJob executes a load job with the uploaded data and records its
// outcome. Nothing changes unless the whole load succeeds.
func (s *Server) runLoadJob(j *job, data []byte) {
	defer func() { j.ended = time.Now() }()
	if e := s.injectedFailure(j.config); e != nil {
		j.errResult = e
		j.ref.Location = locOrUS(j.ref.Location)
		return
	}
	stats, err := s.load(j, j.config.Load, data)
	j.ref.Location = locOrUS(j.ref.Location)
	if err != nil {
		j.fail(err)
		return
	}
	j.loadStats = stats
}

func (s *Server) load(j *job, lc *bq.JobConfigurationLoad, data []byte) (*bq.JobStatistics3, *apiError) {
	dst := lc.DestinationTable
	if dst == nil || dst.DatasetId == "" || dst.TableId == "" {
		return nil, invalidf("Required parameter is missing: destinationTable")
	}
	if dst.ProjectId != "" && dst.ProjectId != s.project {
		return nil, notFoundf("Not found: Project %s", dst.ProjectId)
	}
	d := s.datasets[dst.DatasetId]
	if d == nil {
		return nil, notFoundf("Not found: Dataset %s:%s", s.project, dst.DatasetId)
	}
	if j.ref.Location != "" && !strings.EqualFold(j.ref.Location, d.location) {
		return nil, notFoundf("Not found: Dataset %s:%s was not found in location %s", s.project, d.id, j.ref.Location)
	}
	j.ref.Location = d.location
	// uptake loads a whole staging table, replacing it: other loads are
	// BigQuery's too, but not what the fake is for.
	base, part := splitDecorator(dst.TableId)
	if part != "" {
		return nil, invalidf("bqfake: partition decorator %s: uptake loads whole tables only", dst.TableId)
	}
	if lc.WriteDisposition != "WRITE_TRUNCATE" {
		return nil, invalidf("bqfake: writeDisposition %q: uptake loads with WRITE_TRUNCATE only", lc.WriteDisposition)
	}
	name := s.tableName(d.id, base)
	createDisp := lc.CreateDisposition
	if createDisp == "" {
		createDisp = "CREATE_IF_NEEDED"
	}
	if createDisp != "CREATE_IF_NEEDED" && createDisp != "CREATE_NEVER" {
		return nil, invalidf("Invalid value for createDisposition: %s", createDisp)
	}
	if len(lc.SchemaUpdateOptions) > 0 {
		// BigQuery's own rule for a whole-table WRITE_TRUNCATE.
		return nil, invalidf("Schema update options should only be specified with WRITE_APPEND disposition, or with WRITE_TRUNCATE disposition on a table partition.")
	}
	if lc.Schema == nil || len(lc.Schema.Fields) == 0 {
		return nil, invalidf("bqfake: schema is required (schema autodetection is not implemented by the fake)")
	}
	fields, err := parseSchema(lc.Schema)
	if err != nil {
		return nil, err
	}
	var n *table
	t := s.liveTable(d.id, base)
	if t == nil {
		if createDisp == "CREATE_NEVER" {
			return nil, notFoundf("Not found: Table %s", name)
		}
		if !validID(tableIDRe, base) {
			return nil, invalidf("Invalid table ID %q.", base)
		}
		n, err = newTable(&bq.Table{TableReference: &bq.TableReference{TableId: base}, Schema: lc.Schema,
			TimePartitioning: lc.TimePartitioning, Clustering: lc.Clustering})
		if err != nil {
			return nil, err
		}
	} else {
		n = t.cloneTable()
		if err := checkLayoutCompat(t, lc); err != nil {
			return nil, err
		}
		// BigQuery replaces the table's schema (column descriptions
		// included) with the load's on a whole-table WRITE_TRUNCATE.
		n.Schema = fields
		if err := validateLayout(n.Schema, n.Partitioning, n.Clustering); err != nil {
			return nil, err
		}
	}
	rows, err := s.decodeData(lc, data, fields)
	if err != nil {
		return nil, err
	}
	rows = renameToSchema(rows, fields, n.Schema)
	n.Rows = nil
	reported := len(rows) // a skewed load reports the rows it read, not the rows it kept
	rows = s.skewLoad(j.config, rows)
	if err := s.takeTableUpdates(tkey{d.id, base}); err != nil {
		return nil, err
	}
	n.Rows = append(n.Rows, rows...)
	n.touch()
	d.tables[base] = n
	return &bq.JobStatistics3{
		InputFiles: 1, InputFileBytes: int64(len(data)), OutputRows: int64(reported),
		OutputBytes:     int64(len(rows)) * 8 * int64(len(fields)),
		ForceSendFields: []string{"OutputRows", "InputFiles", "InputFileBytes", "OutputBytes", "BadRecords"},
	}, nil
}

// checkLayoutCompat rejects a load whose partitioning or clustering
// specification contradicts the existing table's.
func checkLayoutCompat(t *table, lc *bq.JobConfigurationLoad) *apiError {
	if tp := lc.TimePartitioning; tp != nil {
		typ := tp.Type
		if typ == "" {
			typ = "DAY"
		}
		if t.Partitioning == nil || typ != t.Partitioning.Type || !strings.EqualFold(tp.Field, t.Partitioning.Field) {
			return invalidf("Incompatible table partitioning specification. Expects partitioning specification %s, but input partitioning specification is interval(type:%s,field:%s)", describePartitioning(t.Partitioning), strings.ToLower(typ), tp.Field)
		}
	}
	if c := lc.Clustering; c != nil && len(c.Fields) > 0 {
		same := len(c.Fields) == len(t.Clustering)
		for i := 0; same && i < len(c.Fields); i++ {
			same = strings.EqualFold(c.Fields[i], t.Clustering[i])
		}
		if !same {
			return invalidf("Incompatible table clustering specification. Expects clustering fields [%s], but input clustering fields are [%s]", strings.Join(t.Clustering, ","), strings.Join(c.Fields, ","))
		}
	}
	return nil
}

func describePartitioning(p *Partitioning) string {
	if p == nil {
		return "none"
	}
	return "interval(type:" + strings.ToLower(p.Type) + ",field:" + p.Field + ")"
}

// renameToSchema re-keys rows decoded with the job's field names to the
// table's field names (which match case-insensitively) and fills absent
// columns with NULL.
func renameToSchema(rows []map[string]any, from, to []Field) []map[string]any {
	for i, r := range rows {
		m := make(map[string]any, len(to))
		for _, f := range to {
			m[f.Name] = nil
		}
		for _, f := range from {
			if k, ok := findField(to, f.Name); ok {
				m[to[k].Name] = r[f.Name]
			}
		}
		rows[i] = m
	}
	return rows
}
