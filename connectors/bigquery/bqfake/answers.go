package bqfake

import bq "google.golang.org/api/bigquery/v2"

// answer is a canned result for query jobs whose SQL the fake does not
// execute itself (such as the GA4 export pushdown, whose GoogleSQL the
// BigQuery emulator runs in other tests).
type answer struct {
	match  func(sql string) bool
	fields []Field
	rows   []map[string]any
	bytes  int64
}

// AnswerQuery makes every query job whose SQL satisfies match answer with
// fields and rows (typed as Table.Rows; paged by getQueryResults like any
// result), and report bytes as totalBytesProcessed, dry runs included (they
// return no rows). The job's parameters are in Requests for assertions.
func (s *Server) AnswerQuery(match func(sql string) bool, fields []Field, rows []map[string]any, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, &answer{match: match, fields: fields, rows: rows, bytes: bytes})
}

// cannedAnswer serves a query job from AnswerQuery; false when none matches.
func (s *Server) cannedAnswer(j *job) bool {
	for _, a := range s.answers {
		if !a.match(j.config.Query.Query) {
			continue
		}
		j.ref.Location = locOrUS(j.ref.Location)
		j.queryStats = &bq.JobStatistics2{TotalBytesProcessed: a.bytes, StatementType: "SELECT"}
		if j.config.DryRun {
			j.result = &queryResult{fields: a.fields}
			return true
		}
		j.result = &queryResult{fields: a.fields, rows: a.rows}
		return true
	}
	return false
}
