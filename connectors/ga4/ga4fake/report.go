package ga4fake

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The JSON RunReportResponse, as the Data API writes it (proto3 JSON: zero
// values are omitted).
type (
	reportResponse struct {
		DimensionHeaders []header       `json:"dimensionHeaders,omitempty"`
		MetricHeaders    []header       `json:"metricHeaders,omitempty"`
		Rows             []row          `json:"rows,omitempty"`
		RowCount         int64          `json:"rowCount,omitempty"`
		Metadata         metadata       `json:"metadata"`
		PropertyQuota    *propertyQuota `json:"propertyQuota,omitempty"`
		Kind             string         `json:"kind"`
	}
	header struct {
		Name string `json:"name"`
		Type string `json:"type,omitempty"`
	}
	row struct {
		DimensionValues []value `json:"dimensionValues,omitempty"`
		MetricValues    []value `json:"metricValues,omitempty"`
	}
	value struct {
		Value string `json:"value"`
	}
	metadata struct {
		DataLossFromOtherRow  bool               `json:"dataLossFromOtherRow,omitempty"`
		CurrencyCode          string             `json:"currencyCode"`
		TimeZone              string             `json:"timeZone"`
		SubjectToThresholding bool               `json:"subjectToThresholding,omitempty"`
		SamplingMetadatas     []samplingMetadata `json:"samplingMetadatas,omitempty"`
	}
	// samplingMetadata is one date range's sampling (int64 as JSON strings,
	// as Google writes them).
	samplingMetadata struct {
		SamplesReadCount  int64 `json:"samplesReadCount,string"`
		SamplingSpaceSize int64 `json:"samplingSpaceSize,string"`
	}
	propertyQuota struct {
		TokensPerDay                          quotaStatus `json:"tokensPerDay"`
		TokensPerHour                         quotaStatus `json:"tokensPerHour"`
		ConcurrentRequests                    quotaStatus `json:"concurrentRequests"`
		ServerErrorsPerProjectPerHour         quotaStatus `json:"serverErrorsPerProjectPerHour"`
		PotentiallyThresholdedRequestsPerHour quotaStatus `json:"potentiallyThresholdedRequestsPerHour"`
		TokensPerProjectPerHour               quotaStatus `json:"tokensPerProjectPerHour"`
	}
	quotaStatus struct {
		Consumed  int64 `json:"consumed,omitempty"`
		Remaining int64 `json:"remaining,omitempty"`
	}
)

// group is one output row before formatting: its dimension values and the
// events aggregated into it.
type group struct {
	dims    []string
	events  []Event
	metrics []float64
}

// runReport serves one runReport for property p. The server lock is held.
func (s *Server) runReport(p *property, body []byte) (any, *apiError) {
	loc, err := time.LoadLocation(p.timeZone)
	if err != nil {
		loc = time.UTC
	}
	q, aerr := parseRequest(body, s.now().In(loc))
	if aerr != nil {
		return nil, aerr
	}
	if p.remaining-p.perRequest < 0 {
		return nil, errorf(http.StatusTooManyRequests, "Exhausted property tokens per day for a property. These quota tokens will return in under 24 hours. To learn more, see https://developers.google.com/analytics/devguides/reporting/data/v1/quotas")
	}
	p.remaining -= p.perRequest
	p.consumed += p.perRequest
	if p.thresholded {
		p.thresholdReqs++
	}

	// Filter and group.
	byKey := map[string]*group{}
	var groups []*group
	for _, e := range p.events {
		if e.Date < q.from || e.Date > q.to || (q.filter != nil && !q.filter(e)) {
			continue
		}
		vals := make([]string, len(q.dims))
		for i, d := range q.dims {
			vals[i] = dimValue(e, d)
		}
		key := strings.Join(vals, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{dims: vals}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.events = append(g.events, e)
	}

	// Merge the long tail into "(other)".
	resp := &reportResponse{Kind: "analyticsData#runReport", Metadata: metadata{
		CurrencyCode: "EUR", TimeZone: p.timeZone, SubjectToThresholding: p.thresholded, DataLossFromOtherRow: p.dataLoss,
	}}
	if p.sampled[1] > 0 {
		resp.Metadata.SamplingMetadatas = []samplingMetadata{{SamplesReadCount: p.sampled[0], SamplingSpaceSize: p.sampled[1]}}
	}
	if n := p.otherAfter; n > 0 && len(groups) > n {
		sort.SliceStable(groups, func(i, j int) bool {
			ci, cj := eventCount(groups[i].events), eventCount(groups[j].events)
			if ci != cj {
				return ci > cj
			}
			return lessStrings(groups[i].dims, groups[j].dims)
		})
		other := &group{dims: make([]string, len(q.dims))}
		for i := range other.dims {
			other.dims[i] = "(other)"
		}
		for _, g := range groups[n:] {
			other.events = append(other.events, g.events...)
		}
		groups = append(groups[:n:n], other)
		resp.Metadata.DataLossFromOtherRow = true
	}

	for _, g := range groups {
		for _, m := range q.metrics {
			g.metrics = append(g.metrics, metricValue(m, g.events))
		}
	}
	sortGroups(groups, q)

	for _, d := range q.dims {
		resp.DimensionHeaders = append(resp.DimensionHeaders, header{Name: d})
	}
	for _, m := range q.metrics {
		resp.MetricHeaders = append(resp.MetricHeaders, header{Name: m, Type: metricTypes[m]})
	}
	resp.RowCount = int64(len(groups))
	start := min(q.offset, int64(len(groups)))
	end := min(start+q.limit, int64(len(groups)))
	for _, g := range groups[start:end] {
		var r row
		for _, d := range g.dims {
			r.DimensionValues = append(r.DimensionValues, value{d})
		}
		for _, v := range g.metrics {
			r.MetricValues = append(r.MetricValues, value{strconv.FormatFloat(v, 'f', -1, 64)})
		}
		resp.Rows = append(resp.Rows, r)
	}
	if q.quota {
		resp.PropertyQuota = p.quota()
	}
	return resp, nil
}

// quota reports the property's quota state after a request.
func (p *property) quota() *propertyQuota {
	left := func(limit, used int64) quotaStatus {
		return quotaStatus{Consumed: used, Remaining: max(0, limit-used)}
	}
	return &propertyQuota{
		TokensPerDay:                          quotaStatus{Consumed: p.consumed, Remaining: p.remaining},
		TokensPerHour:                         left(tokensPerHour, p.consumed),
		ConcurrentRequests:                    left(10, 0),
		ServerErrorsPerProjectPerHour:         left(10, p.serverErrors),
		PotentiallyThresholdedRequestsPerHour: left(120, p.thresholdReqs),
		TokensPerProjectPerHour:               left(tokensPerProjectPerHour, p.consumed),
	}
}

// metricValue computes one metric over the events of a row.
func metricValue(name string, events []Event) float64 {
	switch name {
	case "eventCount":
		return float64(eventCount(events))
	case "activeUsers", "totalUsers":
		users := map[string]bool{}
		for _, e := range events {
			for _, u := range e.Users {
				users[u] = true
			}
		}
		return float64(len(users))
	case "transactions":
		ids := map[string]bool{}
		for _, e := range events {
			if id := e.Dims["transactionId"]; id != "" {
				ids[id] = true
			}
		}
		return float64(len(ids))
	case "purchaseRevenue":
		sum := 0.0
		for _, e := range events {
			sum += e.Revenue
		}
		return math.Round(sum*1e6) / 1e6
	}
	return 0
}

func eventCount(events []Event) int64 {
	var n int64
	for _, e := range events {
		n += e.Count
	}
	return n
}

// sortGroups orders rows by the request's orderBys, then by dimension
// values, so the order (and therefore paging) is deterministic.
func sortGroups(groups []*group, q *query) {
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		for _, o := range q.orderBys {
			c := 0
			if o.Metric != nil {
				k := indexOf(q.metrics, o.Metric.MetricName)
				c = cmpFloat(a.metrics[k], b.metrics[k])
			} else {
				k := indexOf(q.dims, o.Dimension.DimensionName)
				c = cmpDim(a.dims[k], b.dims[k], o.Dimension.OrderType)
			}
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return lessStrings(a.dims, b.dims)
	})
}

func cmpDim(a, b, orderType string) int {
	switch orderType {
	case "CASE_INSENSITIVE_ALPHANUMERIC":
		a, b = strings.ToLower(a), strings.ToLower(b)
	case "NUMERIC":
		x, errx := strconv.ParseFloat(a, 64)
		y, erry := strconv.ParseFloat(b, 64)
		if errx == nil && erry == nil {
			return cmpFloat(x, y)
		}
	}
	return strings.Compare(a, b)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func lessStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
