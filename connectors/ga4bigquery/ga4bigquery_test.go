package ga4bigquery

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
)

func TestConfigIsValidatedBeforeAnyQuery(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: \"my project; DROP\"\ndataset: analytics-1.x\ncustomer_property: \"customer ref\"\nstart_date: x\n"), &doc)
	_, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "UTC")
	for _, want := range []string{"project must be a Google Cloud project id", "dataset must be letters, digits and underscores", "location is required",
		"customer_property must be a user property name", "usage_events is required", "start_date must be a date"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err lacks %q: %v", want, err)
		}
	}
}

func TestTheQueryTakesParametersOnly(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: acme-analytics\ndataset: analytics_123\nlocation: EU\ncustomer_property: customer_ref\nusage_events: [\"page_view'; --\"]\nstart_date: 2026-01-01\n"), &doc)
	s, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	q := s.query()
	// Config values other than the (validated) table reference never reach the SQL text.
	if strings.Contains(q, "page_view") || strings.Contains(q, "customer_ref'") || strings.Contains(q, "Europe/Paris") || !strings.Contains(q, "`acme-analytics.analytics_123.events_*`") {
		t.Errorf("query:\n%s", q)
	}
	for _, p := range []string{"@customer_property", "@usage_events", "@timezone", "@from", "@to", "@from_suffix", "@to_suffix"} {
		if !strings.Contains(q, p) {
			t.Errorf("query lacks %s", p)
		}
	}
}
