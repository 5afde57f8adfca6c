package etl_test

import (
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

// A file beside the establishment exports that looks like one but matches
// no pattern (establishments.csv beside establishments_*.csv, an upper-case
// name) is a warning naming it, in run and in validate; it is not read.
func TestLookalikeExportFilesAreWarnedAbout(t *testing.T) {
	w := newWorkspace(t, "")
	header := "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"
	w.write("establishments.csv", header+"E9,Lost,no,yes,1,0,0,Alice,4\n")
	w.write("Establishments_2026-10.CSV", header+"E9,Lost,no,yes,1,0,0,Alice,4\n")
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.validate(date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	for what, warnings := range map[string][]string{"run": res.Warnings, "validate": v.Warnings} {
		all := strings.Join(warnings, "\n")
		for _, name := range []string{"establishments.csv", "Establishments_2026-10.CSV"} {
			if !strings.Contains(all, name) {
				t.Errorf("%s warnings do not name %s:\n%s", what, name, all)
			}
		}
	}
	var lost int
	if err := w.db().QueryRow(`SELECT count(*) FROM raw_customers WHERE customer_ref = 'E9'`).Scan(&lost); err != nil || lost != 0 {
		t.Errorf("the lookalike files were read: %d rows of E9 (%v)", lost, err)
	}
}
