package sample

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ga4Event is one event of the GA4 BigQuery export, with the fields uptake reads.
type ga4Event struct {
	EventDate      string        `json:"event_date"`
	EventTimestamp int64         `json:"event_timestamp"`
	EventName      string        `json:"event_name"`
	UserID         string        `json:"user_id"`
	UserPseudoID   string        `json:"user_pseudo_id"`
	UserProperties []ga4Property `json:"user_properties"`
}

type ga4Property struct {
	Key   string `json:"key"`
	Value struct {
		StringValue string `json:"string_value"`
	} `json:"value"`
}

// ga4Names maps portal events to the web events GA4 records for them.
var ga4Names = map[string]string{"portal_view": "page_view", "download": "file_download"}

// WriteGA4 writes, next to the activity files in dir, what GA4's BigQuery
// export would hold for the one user in ten who also uses the web shop:
// ga4_events_YYYY-MM.jsonl.gz, one JSON object per event (user_id set, the
// customer reference as the customer_ref user property). It derives the
// events from the activity files, so it is as deterministic as they are.
func WriteGA4(dir string) ([]FileSummary, error) {
	files, err := filepath.Glob(filepath.Join(dir, "activity_*.csv"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []FileSummary
	for _, f := range files {
		month := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "activity_"), ".csv")
		path := filepath.Join(dir, "ga4_events_"+month+".jsonl.gz")
		n, err := writeGA4File(f, path)
		if err != nil {
			return nil, fmt.Errorf("ga4 events of %s: %w", f, err)
		}
		out = append(out, FileSummary{Path: path, Rows: n})
	}
	return out, nil
}

func writeGA4File(activity, path string) (int, error) {
	in, err := os.Open(activity)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r := csv.NewReader(bufio.NewReader(in))
	if _, err := r.Read(); err != nil { // header: date,user_id,customer_reference,event,count
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zw.ModTime = time.Time{} // byte-identical output for the same input
	w := bufio.NewWriter(zw)
	enc := json.NewEncoder(w)
	n := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return 0, err
		}
		name, ok := ga4Names[rec[3]]
		if !ok || !webShopper(rec[1]) {
			continue
		}
		day, err := time.Parse("2006-01-02", rec[0])
		if err != nil {
			f.Close()
			return 0, err
		}
		count, _ := strconv.Atoi(rec[4])
		for i := 0; i < count; i++ {
			ev := ga4Event{EventDate: day.Format("20060102"), EventName: name, UserID: rec[1], UserPseudoID: "p-" + rec[1],
				EventTimestamp: day.Add(9*time.Hour + time.Duration(i)*time.Minute).UnixMicro()}
			p := ga4Property{Key: "customer_ref"}
			p.Value.StringValue = rec[2]
			ev.UserProperties = []ga4Property{p}
			if err := enc.Encode(ev); err != nil {
				f.Close()
				return 0, err
			}
			n++
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return 0, err
	}
	return n, f.Close()
}

// webShopper picks one user in ten, always the same ones.
func webShopper(userID string) bool {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return h.Sum32()%10 == 0
}
