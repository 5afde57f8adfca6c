package sample

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteGA4IsDeterministicAndFollowsTheActivity(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		opt := Options{Out: d, Customers: 20, Users: 200, Months: 2, End: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Seed: 3}
		if _, err := Generate(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteGA4(d); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "ga4_events_2026-09.jsonl.gz"))
	b, _ := os.ReadFile(filepath.Join(dirs[1], "ga4_events_2026-09.jsonl.gz"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("same activity, different GA4 files")
	}
	// Every event is a page_view or file_download of a web shopper, with its customer.
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	dec := json.NewDecoder(bytes.NewReader(raw))
	n := 0
	for dec.More() {
		var ev ga4Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatal(err)
		}
		n++
		if (ev.EventName != "page_view" && ev.EventName != "file_download") || !webShopper(ev.UserID) || len(ev.UserProperties) != 1 ||
			ev.UserProperties[0].Key != "customer_ref" || ev.UserProperties[0].Value.StringValue == "" || ev.EventDate[:6] != "202609" {
			t.Fatalf("event %+v", ev)
		}
	}
	if n == 0 {
		t.Error("no GA4 events")
	}
}
