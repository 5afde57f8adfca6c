package etl_test

import (
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/etl"
)

// Adoption stages on the features fixture (see features_test.go for its
// inputs; milestones: quote_request and reorder, cumulative):
//
//	Jul: C1 quote_request but no reorder (u7's is excluded) → discovery; C2 both → activation;
//	     C3, C4, C5 have no portal access → no stage.
//	Aug: C1 discovery; C2 activation; C3 reorder, no quote_request yet → discovery;
//	     C4 logins only → discovery; C5 searched (and 2 views in July) → discovery.
//	Sep: C1 reorders → activation; C3 requests a quote → activation; C4, C5 discovery.
//
// Per salesperson (Alice C1-C3, Bob C4-C5) as setup, discovery, activation.
func TestAdoptionStages(t *testing.T) {
	db := runFeatures(t, date(2026, 9, 16))
	rows, err := db.Query(`SELECT strftime(month, '%Y-%m'), customer_ref, adoption_stage FROM customer_monthly ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	got := cells(t, rows)
	rows.Close()
	want := []string{
		"2026-07 C1 discovery", "2026-07 C2 activation", "2026-07 C3 -", "2026-07 C4 -", "2026-07 C5 -",
		"2026-08 C1 discovery", "2026-08 C2 activation", "2026-08 C3 discovery", "2026-08 C4 discovery", "2026-08 C5 discovery",
		"2026-09 C1 activation", "2026-09 C2 activation", "2026-09 C3 activation", "2026-09 C4 discovery", "2026-09 C5 discovery",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stages:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rows, err = db.Query(`SELECT strftime(month, '%Y-%m'), salesperson, setup_customers, discovery_customers, activation_stage_customers
		FROM kpi_salesperson_monthly ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	got = cells(t, rows)
	rows.Close()
	want = []string{"2026-07 Alice 0 1 1", "2026-07 Bob 0 0 0", "2026-08 Alice 0 2 1", "2026-08 Bob 0 2 0", "2026-09 Alice 0 0 3", "2026-09 Bob 0 2 0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stage counts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// On the kpi fixture (no milestones, no features, no orders): E7 joins in
// September with portal access and no activity at all → setup; every other
// activated customer has used the portal → discovery; the activation stage
// is not tracked (NULL), nor are segments and orders.
func TestSetupStageWithoutMilestones(t *testing.T) {
	w := newWorkspace(t, "")
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	w.write("establishments_2026-09.csv", sep+"E7,Eta,no,yes,0,0,0,Bob,3\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT strftime(month, '%Y-%m'), customer_ref, adoption_stage, feature_segment, orders
		FROM customer_monthly WHERE month = '2026-09-01' ORDER BY ALL`)
	want := []string{"2026-09 E1 discovery - -", "2026-09 E2 discovery - -", "2026-09 E3 discovery - -", "2026-09 E4 discovery - -",
		"2026-09 E5 - - -", "2026-09 E6 discovery - -", "2026-09 E7 setup - -"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stages:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = w.cells(`SELECT setup_customers, discovery_customers, activation_stage_customers, orders, web_orders, web_order_share
		FROM kpi_overview_monthly WHERE month = '2026-09-01'`)
	if strings.Join(got, "") != "1 5 - - - -" {
		t.Errorf("overview: %v", got)
	}
}

// Web ordering share with an ERP orders export next to the platform's:
//
//	Sep: E1 3 orders, 2 on the site → 2/3; E4 1 (edi) → 0; E6 1 (phone, Sep 30) → 0;
//	     E5 1 web (archived, still its row) → 1; E2 and E3 none → 0 orders, share NULL.
//	     Alice (E1-E3) 2 of 3; Bob (E4-E6) 1 of 3; overall 3 of 6.
//	Aug: E2 1 web → Alice 1 of 1; Bob 0 → NULL; overall 1 of 1. Jul: no order → NULL.
//	O9 is dated October 15, the run's date: not counted; O10 is an internal user's (excluded).
func TestWebOrderingShare(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n")
	orders := "order_id,customer_reference,user_id,date,channel,amount\n" +
		"O1,E1,u1,2026-09-02,web,100\nO2,E1,,2026-09-03,email,50\nO3,E1,u2,2026-09-10,Web,20\nO4,E4,,2026-09-05,edi,500\n" +
		"O5,E2,u4,2026-08-20,web,10\nO6,E6,,2026-09-30,phone,5\nO7,E5,,2026-09-12,web,7\nO9,E1,,2026-10-15,web,1\n" +
		"O10,E6,u11,2026-09-14,web,1\n" // u11 is an internal user: excluded
	w.write("orders.csv", orders)
	node := w.cfg.Sources[0].Node
	setMapping(node, "orders", "path", filepath.Join(w.dir, "input", "orders.csv"))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT strftime(month, '%Y-%m'), customer_ref, orders, web_orders, web_order_share
		FROM customer_monthly WHERE month >= '2026-08-01' AND orders > 0 ORDER BY ALL`)
	want := []string{"2026-08 E2 1 1 " + r(1, 1), "2026-09 E1 3 2 " + r(2, 3), "2026-09 E4 1 0 " + r(0, 1), "2026-09 E5 1 1 " + r(1, 1), "2026-09 E6 1 0 " + r(0, 1)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("customers:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = w.cells(`SELECT strftime(month, '%Y-%m'), customer_ref, orders, web_orders, web_order_share
		FROM customer_monthly WHERE month = '2026-09-01' AND customer_ref = 'E2'`)
	if strings.Join(got, "") != "2026-09 E2 0 0 -" {
		t.Errorf("a customer without orders: %v", got)
	}
	got = w.cells(`SELECT strftime(month, '%Y-%m'), salesperson, orders, web_orders, web_order_share FROM kpi_salesperson_monthly ORDER BY ALL`)
	want = []string{"2026-07 Alice 0 0 -", "2026-07 Bob 0 0 -", "2026-08 Alice 1 1 " + r(1, 1), "2026-08 Bob 0 0 -",
		"2026-09 Alice 3 2 " + r(2, 3), "2026-09 Bob 3 1 " + r(1, 3)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("salespeople:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = w.cells(`SELECT strftime(month, '%Y-%m'), orders, web_orders, web_order_share FROM kpi_overview_monthly ORDER BY ALL`)
	want = []string{"2026-07 0 0 -", "2026-08 1 1 " + r(1, 1), "2026-09 6 3 " + r(3, 6)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("overview:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// setMapping sets key: {sub: value} in the mapping node n.
func setMapping(n *yaml.Node, key, sub, value string) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	setKey(m, sub, value)
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, m)
}

// A salesperson whose only customer is new in September and has no portal
// access: Carol's E8 is to be activated (1) and is not (0 → rate 0); nothing
// was activated or active at the start, she has no new user: every other
// rate is NULL, not a division error; and she has no play in the action list.
func TestFlowsOfASalespersonWithoutActiveCustomer(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n")
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	w.write("establishments_2026-09.csv", sep+"E8,Theta,no,no,0,0,0,Carol,\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT activated_customers, active_customers, monthly_active_rate, customers_to_activate,
		newly_activated_customers, customer_activation_rate, activated_at_start, customer_deactivation_rate, churn_rate,
		usage_retention, new_users, user_activation_rate, user_deactivation_rate, license_utilization_change
		FROM kpi_salesperson_monthly WHERE salesperson = 'Carol'`)
	if strings.Join(got, "") != "0 0 - 1 0 "+r(0, 1)+" 0 - - - 0 - - -" {
		t.Errorf("Carol: %v", got)
	}
	if got := w.cells(`SELECT count(*) FROM action_list WHERE salesperson = 'Carol'`); got[0] != "0" {
		t.Errorf("Carol has %s plays", got[0])
	}
}
