package bqfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestResumableProtocolWithPUTAnd308 drives the resumable protocol by hand,
// the way clients without X-GUploader-No-308 do: PUT chunks to the session
// URL, 308 Resume Incomplete with a Range header until the last chunk, whose
// response is the Job resource.
func TestResumableProtocolWithPUTAnd308(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	meta := `{"jobReference":{"jobId":"by-hand"},"configuration":{"load":{"destinationTable":{"projectId":"uptake-test","datasetId":"kpis","tableId":"t"},` +
		`"sourceFormat":"PARQUET","writeDisposition":"WRITE_TRUNCATE","schema":{"fields":[{"name":"month","type":"DATE"},{"name":"n","type":"INT64"}]}}}}`
	resp, err := http.Post(srv.URL()+"/upload/bigquery/v2/projects/uptake-test/jobs?uploadType=resumable", "application/json", strings.NewReader(meta))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	session := resp.Header.Get("Location")
	if resp.StatusCode != 200 || !strings.HasPrefix(session, srv.URL()+"/upload/") {
		t.Fatalf("open session: %d, Location %q", resp.StatusCode, session)
	}
	data := string(writeParquet(t, "SELECT * FROM (VALUES (DATE '2026-09-01', 3::BIGINT), (DATE '2026-10-01', 4::BIGINT)) t(month, n)"))
	put := func(body, contentRange string) *http.Response {
		req, _ := http.NewRequest("PUT", session, strings.NewReader(body))
		req.Header.Set("Content-Range", contentRange)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp = put(data[:10], "bytes 0-9/*")
	resp.Body.Close()
	if resp.StatusCode != 308 || resp.Header.Get("Range") != "bytes=0-9" {
		t.Fatalf("first chunk: %d, Range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp = put(data[10:], fmt.Sprintf("bytes 10-%d/%d", len(data)-1, len(data)))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var job struct {
		JobReference struct{ JobID, Location string }
		Status       struct{ State string }
	}
	if err := json.Unmarshal(b, &job); err != nil || resp.StatusCode != 200 || job.JobReference.JobID != "by-hand" || job.Status.State != "RUNNING" {
		t.Fatalf("last chunk: %d %s", resp.StatusCode, b)
	}
	st, ok := srv.Table("kpis", "t")
	if !ok || len(st.Rows) != 2 || st.Rows[1]["n"] != int64(4) || st.Schema[1].Type != "INTEGER" {
		t.Errorf("table = %+v", st)
	}
	// The job ID is now taken: a new session with it is refused.
	resp, err = http.Post(srv.URL()+"/upload/bigquery/v2/projects/uptake-test/jobs?uploadType=resumable", "application/json", strings.NewReader(meta))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Errorf("duplicate job ID: %d", resp.StatusCode)
	}
}
