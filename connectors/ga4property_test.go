package connectors_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
)

// ga4Stub is a GA4 source as CheckGA4Properties sees it.
type ga4Stub struct{ use connectors.GA4Use }

func (s ga4Stub) GA4Use() connectors.GA4Use { return s.use }
func (ga4Stub) Extract(context.Context, *sql.Conn, connectors.Run) (connectors.Extracted, error) {
	return connectors.Extracted{}, nil
}

// configured parses a sources: list and pairs each block with its stub.
func configured(t *testing.T, text string, uses ...connectors.GA4Use) []connectors.ConfiguredSource {
	t.Helper()
	var blocks []config.Plugin
	if err := yaml.Unmarshal([]byte(text), &blocks); err != nil {
		t.Fatal(err)
	}
	var out []connectors.ConfiguredSource
	for i, p := range blocks {
		p.File = "uptake.yaml"
		out = append(out, connectors.ConfiguredSource{Plugin: p, Source: ga4Stub{uses[i]}})
	}
	return out
}

const threeSources = `- name: api
  kind: ga4
  property_id: "42"
- name: export
  kind: ga4_bigquery
  dataset: analytics_42
- name: other
  kind: ga4_bigquery
  dataset: analytics_7
`

func TestTwoKPISourcesOfOnePropertyAreRefused(t *testing.T) {
	errs := connectors.CheckGA4Properties(configured(t, threeSources,
		connectors.GA4Use{Property: "42", Key: "property_id", KPI: true},
		connectors.GA4Use{Property: connectors.PropertyOfDataset("analytics_42"), Key: "dataset", KPI: true},
		connectors.GA4Use{Property: "7", Key: "dataset", KPI: true}))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(),
		`uptake.yaml:6: ga4_bigquery "export": reads GA4 property 42 into the KPIs, as does ga4 "api" (uptake.yaml:3): together they would count every GA4 event twice; add `+"`use: reconcile`") {
		t.Errorf("errs = %v", errs)
	}
}

func TestAReconcileOnlySourceOrAnUnknownPropertyPasses(t *testing.T) {
	for name, second := range map[string]connectors.GA4Use{
		"reconcile": {Property: "42", Key: "dataset", KPI: false},
		"unknown":   {Property: connectors.PropertyOfDataset("ga4_export"), Key: "dataset", KPI: true},
	} {
		if errs := connectors.CheckGA4Properties(configured(t, threeSources,
			connectors.GA4Use{Property: "42", Key: "property_id", KPI: true}, second,
			connectors.GA4Use{Property: "7", Key: "dataset", KPI: true})); len(errs) != 0 {
			t.Errorf("%s: errs = %v", name, errs)
		}
	}
}
