package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	bq "cloud.google.com/go/bigquery"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

func TestLookerLinkForBigQueryTables(t *testing.T) {
	// The tables as uptake published them (kpi_salesperson_monthly without partitioning here).
	fake := bqfake.New(t, "acme-analytics")
	ctx := context.Background()
	c, err := bq.NewClient(ctx, "acme-analytics", fake.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Dataset("uptake").Create(ctx, &bq.DatasetMetadata{Location: "EU"}); err != nil {
		t.Fatal(err)
	}
	schema := bq.Schema{{Name: "month", Type: bq.DateFieldType}}
	if err := c.Dataset("uptake").Table("up_kpi_overview_monthly").Create(ctx, &bq.TableMetadata{Schema: schema,
		TimePartitioning: &bq.TimePartitioning{Type: bq.MonthPartitioningType, Field: "month"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Dataset("uptake").Table("up_kpi_salesperson_monthly").Create(ctx, &bq.TableMetadata{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("u.yaml", []byte(`warehouse: w.duckdb
sources:
  - kind: csvexport
destinations:
  - name: warehouse_bq
    kind: bigquery
    project: acme-analytics
    dataset: uptake
    location: EU
    table_prefix: up_
    endpoint: `+fake.URL()+`
looker_studio:
  template_report_id: 0b1c2d3e-aaaa-bbbb
  report_name: "Adoption & usage – Q4"
  data_sources:
    ds0: {destination: warehouse_bq, table: kpi_overview_monthly}
    ds1: {destination: warehouse_bq, table: kpi_salesperson_monthly}
`))
	if err != nil {
		t.Fatal(err)
	}
	link, err := lookerLink(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://lookerstudio.google.com/reporting/create?c.reportId=0b1c2d3e-aaaa-bbbb&") {
		t.Errorf("link = %s", link)
	}
	// Keys are written literally; the name's space, & and – are escaped.
	if !strings.Contains(link, "&r.reportName=Adoption+%26+usage+%E2%80%93+Q4&") || !strings.Contains(link, "&ds.ds1.tableId=up_kpi_salesperson_monthly") {
		t.Errorf("link = %s", link)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"c.reportId": "0b1c2d3e-aaaa-bbbb", "r.reportName": "Adoption & usage – Q4",
		"ds.ds0.connector": "bigQuery", "ds.ds0.type": "TABLE", "ds.ds0.projectId": "acme-analytics",
		"ds.ds0.datasetId": "uptake", "ds.ds0.tableId": "up_kpi_overview_monthly", "ds.ds0.billingProjectId": "acme-analytics",
		"ds.ds0.isPartitioned": "true", "ds.ds0.refreshFields": "false",
		"ds.ds1.tableId": "up_kpi_salesperson_monthly", "ds.ds1.connector": "bigQuery", "ds.ds1.isPartitioned": "false",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(q) != 2+2*8 {
		t.Errorf("%d parameters: %v", len(q), q)
	}
}

func TestLookerLinkProblems(t *testing.T) {
	cfg, err := config.Parse("u.yaml", []byte(`warehouse: w.duckdb
sources:
  - kind: csvexport
destinations:
  - kind: files
looker_studio:
  template_report_id: abc
  data_sources:
    ds0: {destination: files, table: kpi_daily}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lookerLink(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `u.yaml:9: looker_studio.data_sources.ds0.destination: destination "files" (files) is not one Looker Studio reads`) {
		t.Errorf("err = %v", err)
	}
}

func TestLookerLinkNeedsPublishedTablesAndPlainAliases(t *testing.T) {
	fake := bqfake.New(t, "acme-analytics")
	for alias, want := range map[string]string{
		"ds0":  "table up_kpi_daily is not published in acme-analytics.uptake (EU) yet: run uptake once first",
		"ds+1": `alias "ds+1" must be a plain name such as ds0`,
	} {
		cfg, err := config.Parse("u.yaml", []byte(`warehouse: w.duckdb
sources:
  - kind: csvexport
destinations:
  - {name: bq, kind: bigquery, project: acme-analytics, dataset: uptake, location: EU, table_prefix: up_, endpoint: "`+fake.URL()+`"}
looker_studio:
  template_report_id: abc
  data_sources:
    "`+alias+`": {destination: bq, table: kpi_daily}
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lookerLink(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", alias, err)
		}
	}
}
