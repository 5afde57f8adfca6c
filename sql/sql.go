// Package sql holds uptake's transformation: plain .sql files an analyst can
// read, embedded in the binary.
//
//   - contract/: the raw tables sources load (the data contract of DESIGN.md).
//   - staging/stg_*.sql: the raw tables cleaned, typed and joined.
//   - intermediate/int_*.sql: what several marts share (a customer's month
//     with every KPI flag, the monthly KPIs per salesperson).
//   - marts/*.sql: the published output tables; marts/schema.yml, their
//     columns' types (frozen) and data tests, in dbt's layout (schema.go).
//
// Data flows one way, contract → staging → intermediate → marts: a model
// reads its own layer or earlier ones, and a mart reads no other mart.
//   - tests/*.sql: data tests, each a SELECT that returns the rows breaking a rule.
//
// A model file is one SELECT; its table is named after the file. The run
// order is derived from the models' references to each other, never kept by
// hand. KPI thresholds reach the SQL as DuckDB variables (getvariable('...')).
//
// A header line "-- @month: expr" builds a model month by month (expr is a
// row's month), and "-- @lookback: input n, other all" says which earlier
// months of an input a month reads: a run rebuilds only the months whose
// inputs changed (etl/monthly.go). A contract table's @month is the month
// of the rows its sources load.
// All KPI arithmetic lives in these files; Go only orders and runs them.
package sql

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/uptake-dev/uptake/sql/sqltext"
)

//go:embed contract/*.sql staging/*.sql intermediate/*.sql marts/*.sql marts/schema.yml marts/docs.md tests/*.sql
var files embed.FS

// Model is one .sql file.
type Model struct {
	// Name is the table the model builds (the file name without .sql).
	Name string
	// Layer is the folder: contract, staging, intermediate, marts or tests.
	Layer string
	// SQL is the file's text.
	SQL string
	// Doc is the header comment, without the comment markers ("-- "); lines
	// indented further ("--   name  text") describe columns.
	Doc string
	// Deps are the other models this one reads.
	Deps []string
	// Raw are the raw tables (sql/contract) this model reads.
	Raw []string
	// Month, when set, is the SQL expression giving the month (a DATE) of
	// each of the model's rows, never NULL (header line "-- @month: expr"):
	// the model is then built month by month, and a run rebuilds only the
	// months whose inputs changed. For a raw table, it is the month of each
	// row its sources load.
	Month string
	// Lookback maps an input of a monthly model to how many of its earlier
	// months a month reads besides its own (header line "-- @lookback:
	// input n, other all"); LookbackAll stands for every earlier month. An
	// input not listed is read at the month itself only.
	Lookback map[string]int
	// View, when true ("-- @materialized: view", dbt's word), makes the
	// model a view of its SQL rather than a table built by the run: for a
	// model that only passes another on (a copy costs as much as a build).
	View bool
	// Cutoff, when true ("-- @cutoff: content"), keys the readers of a
	// monthly model by the content of its months rather than by their
	// inputs: a month built again with the same rows (an input changed
	// elsewhere, as a users snapshot that adds users without activity in
	// it) leaves its readers' months as they were. It costs a digest of
	// the rows of each month built.
	Cutoff bool
}

// LookbackAll is the Lookback of an input every earlier month of which a
// month reads.
const LookbackAll = -1

// Contract returns the DDL of the raw tables, by name, the
// raw_reconcile_ twins included.
func Contract() ([]Model, error) {
	models, err := layer("contract")
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		if !reconciled[m.Name] {
			continue
		}
		twin := ReconcileTwin(m.Name)
		ddl, err := TempTable(m.Name, twin)
		if err != nil {
			return nil, err
		}
		doc := fmt.Sprintf("%s: %s's twin for the GA4 sources pulled for `uptake reconcile` only\n"+
			"(use: reconcile). No model reads it: its rows never reach a KPI, so the Data API and the\n"+
			"export of one property can both be configured without counting each event twice.", twin, m.Name)
		models = append(models, Model{Name: twin, Layer: "contract", Doc: doc,
			SQL: "-- " + strings.ReplaceAll(doc, "\n", "\n-- ") + "\n" + strings.Replace(ddl, "CREATE OR REPLACE TEMP TABLE", "CREATE OR REPLACE TABLE", 1)})
	}
	sort.Slice(models, func(i, j int) bool { return models[i].Name < models[j].Name })
	return models, nil
}

// reconciled are the raw tables GA4 sources load, which have a
// raw_reconcile_ twin of the same columns (see ReconcileTwin).
var reconciled = map[string]bool{"raw_activity": true, "raw_customer_activity": true, "raw_active_users": true}

// ReconcileTwin names the twin of a raw table that GA4 sources pulled for
// reconcile only load (raw_activity -> raw_reconcile_activity).
func ReconcileTwin(table string) string { return "raw_reconcile_" + strings.TrimPrefix(table, "raw_") }

// contractHead is the head of a contract file's DDL.
var contractHead = regexp.MustCompile(`(?m)^CREATE OR REPLACE TABLE ([a-z_]+) \(`)

// TempTable returns the DDL of a connection-local table named name with
// the columns of the contract table contract: a source fills it, and the
// contract's columns and types stay written once, in sql/contract.
func TempTable(contract, name string) (string, error) {
	b, err := files.ReadFile(path.Join("contract", contract+".sql"))
	if err != nil {
		return "", fmt.Errorf("sql: no contract table %s", contract)
	}
	text := sqltext.StripComments(string(b))
	m := contractHead.FindStringSubmatchIndex(text)
	if m == nil || text[m[2]:m[3]] != contract {
		return "", fmt.Errorf("sql: contract/%s.sql does not begin with CREATE OR REPLACE TABLE %s (", contract, contract)
	}
	return "CREATE OR REPLACE TEMP TABLE " + name + " (" + text[m[1]:], nil
}

// Tests returns the data tests, by name, each with the models (Deps) and
// raw tables (Raw) it reads.
func Tests() ([]Model, error) {
	tests, err := layer("tests")
	if err != nil {
		return nil, err
	}
	models, err := Models()
	if err != nil {
		return nil, err
	}
	raw, err := rawTables()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, m := range models {
		names[m.Name] = true
	}
	for i, t := range tests {
		tests[i].Deps, tests[i].Raw = reads(t, names, raw)
	}
	return tests, nil
}

// rawTables are the names of the raw tables (sql/contract).
func rawTables() (map[string]bool, error) {
	contract, err := layer("contract")
	if err != nil {
		return nil, err
	}
	raw := map[string]bool{}
	for _, c := range contract {
		raw[c.Name] = true
	}
	return raw, nil
}

// reads lists, sorted, the models (among names) and the raw tables (among
// raw) that m's SQL names, itself aside. DuckDB's names are
// case-insensitive, and so is this reading: STG_USERS is stg_users.
func reads(m Model, names, raw map[string]bool) (deps, rawTables []string) {
	seen := map[string]bool{m.Name: true}
	for _, id := range identRE.FindAllString(sqltext.StripComments(m.SQL), -1) {
		id = strings.ToLower(id)
		switch {
		case seen[id]:
		case names[id]:
			deps = append(deps, id)
		case raw[id]:
			rawTables = append(rawTables, id)
		}
		seen[id] = true
	}
	sort.Strings(deps)
	sort.Strings(rawTables)
	return deps, rawTables
}

// Named is the model of that name among models (false when none is).
func Named(models []Model, name string) (Model, bool) {
	for _, m := range models {
		if m.Name == name {
			return m, true
		}
	}
	return Model{}, false
}

// Models returns the staging, intermediate and mart models in an order
// where each comes after every model it reads.
func Models() ([]Model, error) {
	var all []Model
	for _, dir := range modelLayers {
		models, err := layer(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, models...)
	}
	return order(all)
}

// modelLayers are the layers of models, in the direction data flows.
var modelLayers = []string{"staging", "intermediate", "marts"}

// flowsBack says why m may not read dep, a model of another layer: a model
// reads its own layer or earlier ones, and a mart reads no other mart.
func flowsBack(m, dep Model) string {
	rank := func(l string) int { return slices.Index(modelLayers, l) }
	switch {
	case rank(dep.Layer) > rank(m.Layer):
		return fmt.Sprintf("%s reads from %s, a later layer", m.Layer, dep.Layer)
	case m.Layer == "marts" && dep.Layer == "marts":
		return "a mart reads another (read the intermediate model both share)"
	}
	return ""
}

// Outputs returns the names of the published tables (the marts), by name.
func Outputs() []string {
	marts, _ := layer("marts")
	names := make([]string, len(marts))
	for i, m := range marts {
		names[i] = m.Name
	}
	return names
}

func layer(dir string) ([]Model, error) { return layerOf(files, dir) }

// layerOf reads the models of one folder of fsys.
func layerOf(fsys fs.FS, dir string) ([]Model, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Model
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		text := string(b)
		m := Model{Name: strings.TrimSuffix(e.Name(), ".sql"), Layer: dir, SQL: text, Doc: headerDoc(text)}
		if strings.Contains(m.Name, "__") {
			// the warehouse's own tables have a double underscore (parts, copied rows)
			return nil, fmt.Errorf("sql/%s/%s: a model's name has no double underscore", dir, e.Name())
		}
		if err := m.parseDirectives(); err != nil {
			return nil, err
		}
		if err := m.checkVariableReads(); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func headerDoc(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "--") {
			break
		}
		if strings.HasPrefix(l, "-- @") {
			continue // a directive, not documentation
		}
		// keep the indentation after "-- ": it marks column descriptions
		lines = append(lines, strings.TrimRight(strings.TrimPrefix(strings.TrimPrefix(l, "--"), " "), " "))
	}
	return strings.Join(lines, "\n")
}

// parseDirectives reads the header's "-- @name: value" lines.
func (m *Model) parseDirectives() error {
	where := fmt.Sprintf("sql/%s/%s.sql", m.Layer, m.Name)
	header := true
	for i, l := range strings.Split(m.SQL, "\n") {
		if !strings.HasPrefix(l, "--") {
			header = false
		}
		if !strings.HasPrefix(strings.TrimSpace(l), "-- @") {
			continue
		}
		if !header {
			return fmt.Errorf("%s:%d: a directive (%s) belongs in the header, the comment lines the file begins with", where, i+1, strings.TrimSpace(l))
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(l, "-- @"), ":")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			return fmt.Errorf("%s: directive %q: want \"-- @name: value\"", where, l)
		}
		switch name {
		case "month":
			if m.Month != "" {
				return fmt.Errorf("%s: two @month lines", where)
			}
			m.Month = value
		case "lookback":
			if m.Lookback == nil {
				m.Lookback = map[string]int{}
			}
			for _, item := range strings.Split(value, ",") {
				f := strings.Fields(item)
				if len(f) != 2 {
					return fmt.Errorf("%s: @lookback %q: want \"input n\" or \"input all\"", where, strings.TrimSpace(item))
				}
				n := LookbackAll
				if f[1] != "all" {
					var err error
					if n, err = strconv.Atoi(f[1]); err != nil || n < 0 {
						return fmt.Errorf("%s: @lookback %q: months back must be a number of 0 or more, or all", where, strings.TrimSpace(item))
					}
				}
				if _, twice := m.Lookback[f[0]]; twice {
					return fmt.Errorf("%s: @lookback names %s twice", where, f[0])
				}
				m.Lookback[f[0]] = n
			}
		case "cutoff":
			if value != "content" {
				return fmt.Errorf("%s: @cutoff: %s: want content", where, value)
			}
			m.Cutoff = true
		case "materialized":
			if value != "view" && value != "table" {
				return fmt.Errorf("%s: @materialized: %s: want view or table", where, value)
			}
			m.View = value == "view"
		default:
			return fmt.Errorf("%s: unknown directive @%s (known: @month, @lookback, @materialized, @cutoff)", where, name)
		}
	}
	if m.Lookback != nil && m.Month == "" {
		return fmt.Errorf("%s: @lookback without @month: only a monthly model reads months back", where)
	}
	if m.Cutoff && m.Month == "" {
		return fmt.Errorf("%s: @cutoff without @month: only the months of a monthly model are digested", where)
	}
	if m.View && m.Month != "" {
		return fmt.Errorf("%s: @materialized: view with @month: a view has no months to keep", where)
	}
	return nil
}

var identRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// VariableRead is the one spelling in which a model reads a variable (a KPI
// setting, as_of, published_at): the run keys a model by the values of the
// variables its SQL reads so, and finds them by this expression.
var VariableRead = regexp.MustCompile(`getvariable\('([a-z_]+)'\)`)

// anyVariableRead finds every read of a variable, however it is spelled.
var anyVariableRead = regexp.MustCompile(`(?i)getvariable\s*\(\s*('[^']*'|[^)]*)\s*\)`)

// checkVariableReads fails on a read of a variable in another spelling than
// VariableRead's (GETVARIABLE, spaces, a name in upper case or computed):
// the model's key would miss the variable, and a change of its value would
// leave the model's rows as they were.
func (m *Model) checkVariableReads() error {
	text := sqltext.StripComments(m.SQL) // line ends kept: lines still count
	for _, at := range anyVariableRead.FindAllStringIndex(text, -1) {
		if read := text[at[0]:at[1]]; VariableRead.FindString(read) != read {
			line := lineOf([]byte(text), at[0])
			return fmt.Errorf("sql/%s/%s.sql:%d: %s: read a variable as getvariable('name'), in lower case and without spaces (a model is keyed by the variables it reads so)",
				m.Layer, m.Name, line, strings.Join(strings.Fields(read), " "))
		}
	}
	return nil
}

// order sorts models so that dependencies come first (ties by name), and
// fails on a cycle.
func order(models []Model) ([]Model, error) {
	byName, names := map[string]int{}, map[string]bool{}
	for i, m := range models {
		byName[m.Name] = i
		names[m.Name] = true
	}
	raw, err := rawTables()
	if err != nil {
		return nil, err
	}
	for i, m := range models {
		models[i].Deps, models[i].Raw = reads(m, names, raw)
		for _, id := range models[i].Deps {
			if why := flowsBack(m, models[byName[id]]); why != "" {
				return nil, fmt.Errorf("sql/%s/%s.sql reads %s (sql/%s): %s; data flows staging → intermediate → marts",
					m.Layer, m.Name, id, models[byName[id]].Layer, why)
			}
		}
		for in := range m.Lookback {
			if !slices.Contains(models[i].Deps, in) && !slices.Contains(models[i].Raw, in) {
				return nil, fmt.Errorf("sql/%s/%s.sql: @lookback names %s, which the model does not read", m.Layer, m.Name, in)
			}
		}
	}
	var out []Model
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, stack []string) error
	visit = func(name string, stack []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("sql: models reference each other in a cycle: %s", strings.Join(append(stack, name), " → "))
		case 2:
			return nil
		}
		state[name] = 1
		m := models[byName[name]]
		for _, d := range m.Deps {
			if err := visit(d, append(stack, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, m)
		return nil
	}
	for _, m := range models {
		if err := visit(m.Name, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
