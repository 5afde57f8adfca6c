package bqfake

import (
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// Table is a snapshot of a table kept by the fake, returned by Server.Table.
//
// Rows hold typed Go values keyed by field name: int64 (INTEGER), float64
// (FLOAT), *big.Rat (NUMERIC), string (STRING), bool (BOOLEAN), civil.Date
// (DATE), civil.DateTime (DATETIME), time.Time in UTC (TIMESTAMP), or nil for
// NULL. These are the same types the client's RowIterator yields.
type Table struct {
	Schema       []Field
	Description  string
	Partitioning *Partitioning
	Clustering   []string
	Expiration   time.Time
	Labels       map[string]string
	Rows         []map[string]any
}

// Field is one top-level column of a table schema. Type uses BigQuery's
// legacy names as returned by tables.get (INTEGER, FLOAT, BOOLEAN, STRING,
// NUMERIC, DATE, DATETIME, TIMESTAMP); Mode is NULLABLE, REQUIRED or REPEATED.
type Field struct {
	Name, Type, Mode, Description string
}

// Partitioning is a table's time partitioning: Type is DAY, HOUR, MONTH or
// YEAR; Field is the partitioning column ("" for ingestion-time).
type Partitioning struct{ Type, Field string }

func (t Table) clone() Table {
	c := t
	c.Schema = append([]Field(nil), t.Schema...)
	if t.Partitioning != nil {
		p := *t.Partitioning
		c.Partitioning = &p
	}
	c.Clustering = append([]string(nil), t.Clustering...)
	if t.Labels != nil {
		c.Labels = map[string]string{}
		for k, v := range t.Labels {
			c.Labels[k] = v
		}
	}
	c.Rows = cloneRows(t.Rows)
	return c
}

func cloneRows(rows []map[string]any) []map[string]any {
	if rows == nil {
		return nil
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		m := make(map[string]any, len(r))
		for k, v := range r {
			if rat, ok := v.(*big.Rat); ok {
				v = new(big.Rat).Set(rat)
			}
			m[k] = v
		}
		out[i] = m
	}
	return out
}

type dataset struct {
	id, location, description, friendlyName string
	labels                                  map[string]string
	defaultTableExpirationMs                int64
	created                                 time.Time
	tables                                  map[string]*table
}

type table struct {
	Table
	id                     string
	friendlyName           string
	partitionExpirationMs  int64
	requirePartitionFilter bool
	created, modified      time.Time
	gen                    int64
}

func (t *table) cloneTable() *table {
	c := *t
	c.Table = t.Table.clone()
	return &c
}

// touch records a modification: new etag and last-modified time.
func (t *table) touch() {
	t.gen++
	t.modified = time.Now()
}

func (t *table) etag() string {
	return strconv.FormatInt(t.created.UnixNano(), 36) + "." + strconv.FormatInt(t.gen, 36)
}

func (t *table) field(name string) (Field, bool) {
	for _, f := range t.Schema {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// liveTable returns the table, dropping it first if it has expired. The lock
// is held.
func (s *Server) liveTable(datasetID, tableID string) *table {
	d := s.datasets[datasetID]
	if d == nil {
		return nil
	}
	t := d.tables[tableID]
	if t == nil {
		return nil
	}
	if !t.Expiration.IsZero() && time.Now().After(t.Expiration) {
		delete(d.tables, tableID)
		return nil
	}
	return t
}

var datasetIDRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// validID reports whether id matches re and is at most 1024 bytes long.
func validID(re *regexp.Regexp, id string) bool { return len(id) <= 1024 && re.MatchString(id) }

func (s *Server) datasetResource(d *dataset) *bq.Dataset {
	return &bq.Dataset{
		Kind:                     "bigquery#dataset",
		Id:                       s.project + ":" + d.id,
		SelfLink:                 s.URL() + "/bigquery/v2/projects/" + s.project + "/datasets/" + d.id,
		DatasetReference:         &bq.DatasetReference{ProjectId: s.project, DatasetId: d.id},
		Location:                 d.location,
		Description:              d.description,
		FriendlyName:             d.friendlyName,
		Labels:                   d.labels,
		DefaultTableExpirationMs: d.defaultTableExpirationMs,
		CreationTime:             millis(d.created),
		LastModifiedTime:         millis(d.created),
		Etag:                     strconv.FormatInt(d.created.UnixNano(), 36),
		Type:                     "DEFAULT",
	}
}

func (s *Server) insertDataset(body []byte) (any, *apiError) {
	var in bq.Dataset
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	if in.DatasetReference == nil || in.DatasetReference.DatasetId == "" {
		return nil, invalidf("Required parameter is missing: datasetReference.datasetId")
	}
	id := in.DatasetReference.DatasetId
	if p := in.DatasetReference.ProjectId; p != "" && p != s.project {
		return nil, invalidf("Dataset project %s does not match the project %s in the request", p, s.project)
	}
	if !validID(datasetIDRe, id) {
		return nil, invalidf("Invalid dataset ID %q. Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.", id)
	}
	if _, ok := s.datasets[id]; ok {
		return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Dataset %s:%s", s.project, id)
	}
	loc := in.Location
	if loc == "" {
		loc = "US"
	}
	d := &dataset{
		id: id, location: loc, description: in.Description, friendlyName: in.FriendlyName,
		labels: in.Labels, defaultTableExpirationMs: in.DefaultTableExpirationMs,
		created: time.Now(), tables: map[string]*table{},
	}
	s.datasets[id] = d
	return s.datasetResource(d), nil
}

func (s *Server) getDataset(id string) (any, *apiError) {
	d := s.datasets[id]
	if d == nil {
		return nil, notFoundf("Not found: Dataset %s:%s", s.project, id)
	}
	return s.datasetResource(d), nil
}

func (s *Server) deleteDataset(r *http.Request, id string) (any, *apiError) {
	d := s.datasets[id]
	if d == nil {
		return nil, notFoundf("Not found: Dataset %s:%s", s.project, id)
	}
	if len(d.tables) > 0 && r.URL.Query().Get("deleteContents") != "true" {
		return nil, errorf(http.StatusBadRequest, "resourceInUse", "Dataset %s:%s is still in use", s.project, id)
	}
	delete(s.datasets, id)
	return nil, nil
}

func (s *Server) listDatasets(r *http.Request) (any, *apiError) {
	var ids []string
	for id := range s.datasets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	page, next, err := pageOf(len(ids), r.URL.Query(), 50)
	if err != nil {
		return nil, err
	}
	out := &bq.DatasetList{Kind: "bigquery#datasetList", NextPageToken: next}
	for _, i := range page {
		d := s.datasets[ids[i]]
		out.Datasets = append(out.Datasets, &bq.DatasetListDatasets{
			Kind: "bigquery#dataset", Id: s.project + ":" + d.id, Location: d.location,
			DatasetReference: &bq.DatasetReference{ProjectId: s.project, DatasetId: d.id},
			FriendlyName:     d.friendlyName, Labels: d.labels,
		})
	}
	return out, nil
}

// pageOf selects the indexes of one page of n items from the request's
// maxResults, pageToken and startIndex parameters and returns the token of
// the next page ("" on the last page).
func pageOf(n int, q url.Values, defaultSize int) ([]int, string, *apiError) {
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(tok, "bqfake-"))
		if err != nil || !strings.HasPrefix(tok, "bqfake-") || v < 0 {
			return nil, "", invalidf("Invalid page token: %q", tok)
		}
		start = v
	} else if si := q.Get("startIndex"); si != "" {
		v, err := strconv.Atoi(si)
		if err != nil || v < 0 {
			return nil, "", invalidf("Invalid value for startIndex: %q", si)
		}
		start = v
	}
	size := defaultSize
	if mr, ok := q["maxResults"]; ok && len(mr) > 0 {
		v, err := strconv.Atoi(mr[0])
		if err != nil || v < 0 {
			return nil, "", invalidf("Invalid value for maxResults: %q", mr[0])
		}
		size = v
	}
	if start > n {
		start = n
	}
	end := start + size
	if end > n || end < start {
		end = n
	}
	var idx []int
	for i := start; i < end; i++ {
		idx = append(idx, i)
	}
	next := ""
	if end < n && size > 0 {
		next = "bqfake-" + strconv.Itoa(end)
	}
	return idx, next, nil
}
