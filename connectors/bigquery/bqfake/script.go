package bqfake

import (
	"regexp"
	"strings"
)

// The SQL bqfake runs is exactly what uptake sends (connectors/bigquery):
// the publish transaction and the row counts around it. GoogleSQL itself is
// tested on the BigQuery emulator (connectors/bigquery/emulator_test.go, in
// CI); any other statement is refused as a query BigQuery cannot parse.

// Statement kinds, as BigQuery names them in a job's statementType.
const (
	stmtBegin  = "BEGIN_TRANSACTION"
	stmtCommit = "COMMIT_TRANSACTION"
	stmtCount  = "SELECT"
	stmtDelete = "DELETE"
	stmtInsert = "INSERT"
)

// statement is one statement of a script.
type statement struct {
	kind   string
	table  tableName // the table counted, deleted from or inserted into
	source tableName // INSERT: the table selected from
	cols   []string  // INSERT: the columns inserted, selected by the same names
	where  condition
}

// tableName is a fully qualified table: `project.dataset.table`.
type tableName struct{ project, dataset, table string }

func (n tableName) String() string { return n.project + "." + n.dataset + "." + n.table }

// condition is one of the WHERE clauses uptake writes: TRUE, FALSE,
// `column` BETWEEN @lo AND @hi, or @lo <= @hi (a condition on the job's
// parameters alone).
type condition struct {
	text   string
	column string
	lo, hi string
}

const (
	tableExpr = "`([^`;]+)\\.([^`.;]+)\\.([^`.;]+)`" // a project may hold dots (example.com:p)
	condExpr  = "(TRUE|FALSE|`[^`]+` BETWEEN @\\w+ AND @\\w+|@\\w+ <= @\\w+)"
)

var (
	countRE   = regexp.MustCompile(`^SELECT COUNT\(\*\) FROM ` + tableExpr + ` WHERE ` + condExpr + `$`)
	deleteRE  = regexp.MustCompile(`^DELETE FROM ` + tableExpr + ` WHERE ` + condExpr + `$`)
	insertRE  = regexp.MustCompile(`^INSERT INTO ` + tableExpr + ` \(([^()]*)\) SELECT ([^()]*) FROM ` + tableExpr + ` WHERE ` + condExpr + `$`)
	betweenRE = regexp.MustCompile("^`([^`]+)` BETWEEN @(\\w+) AND @(\\w+)$")
	paramsRE  = regexp.MustCompile(`^@(\w+) <= @(\w+)$`)
	columnRE  = regexp.MustCompile("^`([^`]+)`$")
)

// parseScript splits a query into its statements (one per line, as uptake
// writes them, each ending with a semicolon) and recognizes each.
func parseScript(sql string) ([]statement, *apiError) {
	var out []statement
	for _, text := range strings.Split(sql, ";") {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		st, ok := recognize(text)
		if !ok {
			return nil, queryErrf("Syntax error: bqfake runs only uptake's publish statements "+
				"(BEGIN TRANSACTION; DELETE FROM `p.d.t` WHERE c; INSERT INTO `p.d.t` (`a`, ...) SELECT `a`, ... FROM `p.d.s` WHERE c; "+
				"COMMIT TRANSACTION; SELECT COUNT(*) FROM `p.d.t` WHERE c), not %q; GoogleSQL itself is tested on the BigQuery emulator, "+
				"and a test answers other queries with AnswerQuery", text)
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, queryErrf("Syntax error: Unexpected end of script at [1:1]")
	}
	return out, nil
}

// recognize reads one statement.
func recognize(text string) (statement, bool) {
	switch text {
	case "BEGIN TRANSACTION":
		return statement{kind: stmtBegin}, true
	case "COMMIT TRANSACTION":
		return statement{kind: stmtCommit}, true
	}
	if g := countRE.FindStringSubmatch(text); g != nil {
		return statement{kind: stmtCount, table: tableName{g[1], g[2], g[3]}, where: parseCondition(g[4])}, true
	}
	if g := deleteRE.FindStringSubmatch(text); g != nil {
		return statement{kind: stmtDelete, table: tableName{g[1], g[2], g[3]}, where: parseCondition(g[4])}, true
	}
	if g := insertRE.FindStringSubmatch(text); g != nil {
		cols, ok := columns(g[4])
		selected, selectedOK := columns(g[5])
		if !ok || !selectedOK || strings.Join(cols, "`") != strings.Join(selected, "`") {
			return statement{}, false
		}
		return statement{kind: stmtInsert, table: tableName{g[1], g[2], g[3]}, cols: cols,
			source: tableName{g[6], g[7], g[8]}, where: parseCondition(g[9])}, true
	}
	return statement{}, false
}

// columns reads a list of backquoted column names.
func columns(list string) ([]string, bool) {
	var out []string
	for _, c := range strings.Split(list, ",") {
		g := columnRE.FindStringSubmatch(strings.TrimSpace(c))
		if g == nil {
			return nil, false
		}
		out = append(out, g[1])
	}
	return out, true
}

func parseCondition(text string) condition {
	c := condition{text: text}
	if g := betweenRE.FindStringSubmatch(text); g != nil {
		c.column, c.lo, c.hi = g[1], g[2], g[3]
	} else if g := paramsRE.FindStringSubmatch(text); g != nil {
		c.lo, c.hi = g[1], g[2]
	}
	return c
}
