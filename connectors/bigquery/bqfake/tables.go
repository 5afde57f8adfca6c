package bqfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

var tableIDRe = regexp.MustCompile(`^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd}\p{Zs}]+$`)

func (s *Server) tableName(datasetID, tableID string) string {
	return s.project + ":" + datasetID + "." + tableID
}

func (s *Server) tableResource(d *dataset, t *table) *bq.Table {
	out := &bq.Table{
		Kind:             "bigquery#table",
		Id:               s.tableName(d.id, t.id),
		SelfLink:         s.URL() + "/bigquery/v2/projects/" + s.project + "/datasets/" + d.id + "/tables/" + t.id,
		TableReference:   &bq.TableReference{ProjectId: s.project, DatasetId: d.id, TableId: t.id},
		Type:             "TABLE",
		Location:         d.location,
		Schema:           schemaResource(t.Schema),
		Description:      t.Description,
		FriendlyName:     t.friendlyName,
		Labels:           t.Labels,
		CreationTime:     millis(t.created),
		LastModifiedTime: uint64(millis(t.modified)),
		ExpirationTime:   millis(t.Expiration),
		Etag:             t.etag(),
		NumRows:          uint64(len(t.Rows)),
		NumBytes:         int64(len(t.Rows)) * 8 * int64(len(t.Schema)),
		ForceSendFields:  []string{"NumRows", "NumBytes"},
	}
	out.RequirePartitionFilter = t.requirePartitionFilter
	if t.Partitioning != nil {
		out.TimePartitioning = &bq.TimePartitioning{Type: t.Partitioning.Type, Field: t.Partitioning.Field, ExpirationMs: t.partitionExpirationMs}
	}
	if len(t.Clustering) > 0 {
		out.Clustering = &bq.Clustering{Fields: append([]string(nil), t.Clustering...)}
	}
	return out
}

func (s *Server) datasetOr404(id string) (*dataset, *apiError) {
	d := s.datasets[id]
	if d == nil {
		return nil, notFoundf("Not found: Dataset %s:%s", s.project, id)
	}
	return d, nil
}

func (s *Server) tableOr404(datasetID, tableID string) (*dataset, *table, *apiError) {
	d, err := s.datasetOr404(datasetID)
	if err != nil {
		return nil, nil, err
	}
	t := s.liveTable(datasetID, tableID)
	if t == nil {
		return nil, nil, notFoundf("Not found: Table %s", s.tableName(datasetID, tableID))
	}
	return d, t, nil
}

// newTable builds a table from a REST resource, validating everything
// BigQuery validates on tables.insert.
func newTable(in *bq.Table) (*table, *apiError) {
	if in.View != nil || in.MaterializedView != nil || in.ExternalDataConfiguration != nil {
		return nil, invalidf("bqfake: views, materialized views and external tables are not supported")
	}
	if in.RangePartitioning != nil {
		return nil, invalidf("bqfake: range partitioning is not supported")
	}
	fields, err := parseSchema(in.Schema)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &table{id: in.TableReference.TableId, created: now, modified: now, friendlyName: in.FriendlyName}
	t.Schema = fields
	t.Description = in.Description
	t.Labels = in.Labels
	t.requirePartitionFilter = in.RequirePartitionFilter
	if tp := in.TimePartitioning; tp != nil {
		typ := tp.Type
		if typ == "" {
			typ = "DAY"
		}
		t.Partitioning = &Partitioning{Type: typ, Field: tp.Field}
		t.partitionExpirationMs = tp.ExpirationMs
	}
	if in.Clustering != nil {
		t.Clustering = append([]string(nil), in.Clustering.Fields...)
	}
	if err := validateLayout(fields, t.Partitioning, t.Clustering); err != nil {
		return nil, err
	}
	if in.ExpirationTime != 0 {
		t.Expiration = time.UnixMilli(in.ExpirationTime).UTC()
		if t.Expiration.Before(now) {
			return nil, invalidf("Expiration time %s for table %s is in the past", t.Expiration.Format(time.RFC3339), t.id)
		}
	}
	return t, nil
}

func (s *Server) insertTable(datasetID string, body []byte) (any, *apiError) {
	var in bq.Table
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	d, err := s.datasetOr404(datasetID)
	if err != nil {
		return nil, err
	}
	if in.TableReference == nil || in.TableReference.TableId == "" {
		return nil, invalidf("Required parameter is missing: tableReference.tableId")
	}
	ref := in.TableReference
	if (ref.ProjectId != "" && ref.ProjectId != s.project) || (ref.DatasetId != "" && ref.DatasetId != datasetID) {
		return nil, invalidf("Table reference %s:%s.%s does not match the request path %s:%s", ref.ProjectId, ref.DatasetId, ref.TableId, s.project, datasetID)
	}
	if !validID(tableIDRe, ref.TableId) {
		return nil, invalidf("Invalid table ID %q. Table IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long. Also, Table decorators cannot be used.", ref.TableId)
	}
	if s.liveTable(datasetID, ref.TableId) != nil {
		return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Table %s", s.tableName(datasetID, ref.TableId))
	}
	t, err := newTable(&in)
	if err != nil {
		return nil, err
	}
	if t.Expiration.IsZero() && d.defaultTableExpirationMs > 0 {
		t.Expiration = t.created.Add(time.Duration(d.defaultTableExpirationMs) * time.Millisecond)
	}
	if err := s.takeTableUpdates(tkey{datasetID, t.id}); err != nil {
		return nil, err
	}
	d.tables[t.id] = t
	return s.tableResource(d, t), nil
}

func (s *Server) getTable(datasetID, tableID string) (any, *apiError) {
	d, t, err := s.tableOr404(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	return s.tableResource(d, t), nil
}

func (s *Server) deleteTable(datasetID, tableID string) (any, *apiError) {
	d, t, err := s.tableOr404(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	delete(d.tables, t.id)
	return nil, nil
}

func (s *Server) listTables(r *http.Request, datasetID string) (any, *apiError) {
	d, err := s.datasetOr404(datasetID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for id := range d.tables {
		if s.liveTable(datasetID, id) != nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	page, next, err := pageOf(len(ids), r.URL.Query(), 50)
	if err != nil {
		return nil, err
	}
	out := &bq.TableList{Kind: "bigquery#tableList", NextPageToken: next, TotalItems: int64(len(ids))}
	for _, i := range page {
		t := d.tables[ids[i]]
		full := s.tableResource(d, t)
		out.Tables = append(out.Tables, &bq.TableListTables{
			Kind: "bigquery#table", Id: full.Id, TableReference: full.TableReference, Type: "TABLE",
			FriendlyName: t.friendlyName, Labels: t.Labels, TimePartitioning: full.TimePartitioning,
			Clustering: full.Clustering, CreationTime: full.CreationTime, ExpirationTime: full.ExpirationTime,
		})
	}
	return out, nil
}

// patchTable serves tables.patch (replace=false) and tables.update
// (replace=true). Only additive schema changes (and REQUIRED to NULLABLE
// relaxation) are accepted, like BigQuery.
func (s *Server) patchTable(r *http.Request, datasetID, tableID string, body []byte, replace bool) (any, *apiError) {
	var in bq.Table
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	d, t, err := s.tableOr404(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != t.etag() {
		return nil, errorf(http.StatusPreconditionFailed, "failedPrecondition", "Precondition check failed.")
	}
	has := func(k string) bool { _, ok := raw[k]; return ok || replace }
	isNull := func(k string) bool { return string(raw[k]) == "null" }
	if in.View != nil || in.ExternalDataConfiguration != nil || in.MaterializedView != nil || in.RangePartitioning != nil {
		return nil, invalidf("bqfake: only schema, description, friendlyName, labels, expirationTime, timePartitioning.expirationMs, requirePartitionFilter and clustering can be updated")
	}
	n := t.cloneTable()
	name := s.project + ":" + datasetID + "." + tableID
	if _, ok := raw["schema"]; ok && in.Schema != nil {
		fields, err := parseSchema(in.Schema)
		if err != nil {
			return nil, err
		}
		n.Schema, err = evolveSchema(name, t.Schema, fields)
		if err != nil {
			return nil, err
		}
	} else if replace && in.Schema == nil {
		return nil, invalidf("Provided Schema does not match Table %s. Cannot remove all fields", name)
	}
	if has("description") {
		n.Description = in.Description
	}
	if has("friendlyName") {
		n.friendlyName = in.FriendlyName
	}
	if has("labels") {
		n.Labels = in.Labels
	}
	if has("requirePartitionFilter") {
		n.requirePartitionFilter = in.RequirePartitionFilter
	}
	if has("expirationTime") {
		n.Expiration = time.Time{}
		if !isNull("expirationTime") && in.ExpirationTime != 0 {
			n.Expiration = time.UnixMilli(in.ExpirationTime).UTC()
		}
	}
	if _, ok := raw["timePartitioning"]; ok && !isNull("timePartitioning") && in.TimePartitioning != nil {
		tp := in.TimePartitioning
		cur := t.Partitioning
		if cur == nil || (tp.Type != "" && tp.Type != cur.Type) || (tp.Field != "" && !strings.EqualFold(tp.Field, cur.Field)) {
			return nil, invalidf("Cannot change partitioning/clustering spec for a partitioned/clustered table.")
		}
		n.partitionExpirationMs = tp.ExpirationMs
	}
	if has("clustering") {
		n.Clustering = nil
		if in.Clustering != nil {
			n.Clustering = append([]string(nil), in.Clustering.Fields...)
		}
	}
	if err := validateLayout(n.Schema, n.Partitioning, n.Clustering); err != nil {
		return nil, err
	}
	if err := s.takeTableUpdates(tkey{datasetID, tableID}); err != nil {
		return nil, err
	}
	n.touch()
	d.tables[tableID] = n
	return s.tableResource(d, n), nil
}

// splitDecorator splits "table$20260901" into table and partition id.
func splitDecorator(id string) (string, string) {
	if i := strings.IndexByte(id, '$'); i >= 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}

func (s *Server) listTableData(r *http.Request, datasetID, tableID string) (any, *apiError) {
	base, part := splitDecorator(tableID)
	_, t, err := s.tableOr404(datasetID, base)
	if err != nil {
		return nil, err
	}
	rows := t.Rows
	if part != "" {
		if t.Partitioning == nil || t.Partitioning.Field == "" {
			return nil, invalidf("Cannot read partition information from a table that is not partitioned: %s", s.tableName(datasetID, tableID))
		}
		rows = nil
		for _, row := range t.Rows {
			if partitionKey(row[t.Partitioning.Field], t.Partitioning.Type) == part {
				rows = append(rows, row)
			}
		}
	}
	fields := t.Schema
	if sel := r.URL.Query().Get("selectedFields"); sel != "" {
		fields = nil
		for _, name := range strings.Split(sel, ",") {
			i, ok := findField(t.Schema, strings.TrimSpace(name))
			if !ok {
				return nil, invalidf("Invalid field selection %s", name)
			}
			fields = append(fields, t.Schema[i])
		}
	}
	page, next, err := pageOf(len(rows), r.URL.Query(), 100000)
	if err != nil {
		return nil, err
	}
	int64ts := r.URL.Query().Get("formatOptions.useInt64Timestamp") == "true"
	out := map[string]any{"kind": "bigquery#tableDataList", "etag": t.etag(), "totalRows": itoa(len(rows))}
	if next != "" {
		out["pageToken"] = next
	}
	if len(page) > 0 {
		out["rows"] = encodeRows(rows, page, fields, int64ts)
	}
	return out, nil
}

// encodeRows renders rows[idx] in the REST API's {"f":[{"v":...}]} format.
func encodeRows(rows []map[string]any, idx []int, fields []Field, int64ts bool) []any {
	out := []any{}
	for _, i := range idx {
		cells := make([]any, len(fields))
		for j, f := range fields {
			cells[j] = map[string]any{"v": encodeCell(rows[i][f.Name], int64ts)}
		}
		out = append(out, map[string]any{"f": cells})
	}
	return out
}
