// Package ga4emu builds GA4 export datasets (events_YYYYMMDD and
// events_intraday_YYYYMMDD tables with nested user_properties) on the
// BigQuery emulator, for the tests that run the GA4 pushdown on a real
// GoogleSQL engine.
package ga4emu

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqemu"
)

// Dataset is a fresh GA4 export dataset on the emulator.
type Dataset struct {
	// Host is BIGQUERY_EMULATOR_HOST; Project and Name locate the dataset.
	Host, Project, Name string
	// Client talks to the emulator.
	Client *bq.Client
}

// New creates a dataset, or skips t when BIGQUERY_EMULATOR_HOST is unset.
func New(t testing.TB) *Dataset {
	t.Helper()
	host, project := bqemu.Address(t)
	ctx := context.Background()
	c, err := bq.NewClient(ctx, project, option.WithEndpoint("http://"+host+"/bigquery/v2/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := &Dataset{Host: host, Project: project, Name: fmt.Sprintf("analytics_%d", time.Now().UnixNano()%1_000_000_000), Client: c}
	if err := c.Dataset(d.Name).Create(ctx, &bq.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	return d
}

// Event is one exported GA4 event; UserID "" is NULL, Customer is the
// customer_ref user property.
type Event struct {
	At                               time.Time
	Name, UserID, PseudoID, Customer string
}

// Table creates the table name (events_YYYYMMDD or
// events_intraday_YYYYMMDD) holding events.
func (d *Dataset) Table(t testing.TB, name string, events ...Event) {
	t.Helper()
	var rows []string
	for _, e := range events {
		uid := "NULL"
		if e.UserID != "" {
			uid = "'" + e.UserID + "'"
		}
		rows = append(rows, fmt.Sprintf("(%d, '%s', %s, '%s', [STRUCT('customer_ref' AS key, STRUCT('%s' AS string_value, CAST(NULL AS INT64) AS int_value) AS value)])",
			e.At.UnixMicro(), e.Name, uid, e.PseudoID, e.Customer))
	}
	ref := fmt.Sprintf("`%s.%s.%s`", d.Project, d.Name, name)
	for _, q := range []string{
		"CREATE TABLE " + ref + " (event_timestamp INT64, event_name STRING, user_id STRING, user_pseudo_id STRING, user_properties ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64>>>)",
		"INSERT INTO " + ref + " VALUES " + strings.Join(rows, ", "),
	} {
		job, err := d.Client.Query(q).Run(context.Background())
		if err == nil {
			_, err = job.Wait(context.Background())
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
