package ga4fake

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of a runReport request.
const (
	MaxLimit      = 250_000
	DefaultLimit  = 10_000
	MaxDimensions = 9
	MaxMetrics    = 10
)

const schemaHint = "For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"

// metricTypes are the metrics known to the fake and their header types.
var metricTypes = map[string]string{
	"eventCount":      "TYPE_INTEGER",
	"activeUsers":     "TYPE_INTEGER",
	"totalUsers":      "TYPE_INTEGER",
	"transactions":    "TYPE_INTEGER",
	"purchaseRevenue": "TYPE_CURRENCY",
}

func isDimension(name string) bool {
	switch name {
	case "date", "yearMonth", "eventName", "transactionId":
		return true
	}
	for _, p := range []string{"customUser:", "customEvent:"} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// int64Value decodes a proto3 JSON int64, sent as a string ("10") by the
// generated client but also accepted as a number.
type int64Value int64

func (n *int64Value) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	*n = int64Value(v)
	return err
}

// reportRequest is the JSON RunReportRequest. Fields the fake does not
// implement are kept raw so that using them is reported, not ignored.
type reportRequest struct {
	Property   string `json:"property"`
	Dimensions []struct {
		Name                string          `json:"name"`
		DimensionExpression json.RawMessage `json:"dimensionExpression"`
	} `json:"dimensions"`
	Metrics []struct {
		Name       string `json:"name"`
		Expression string `json:"expression"`
		Invisible  bool   `json:"invisible"`
	} `json:"metrics"`
	DateRanges []struct {
		StartDate string `json:"startDate"`
		EndDate   string `json:"endDate"`
		Name      string `json:"name"`
	} `json:"dateRanges"`
	DimensionFilter     *filterExpr     `json:"dimensionFilter"`
	MetricFilter        json.RawMessage `json:"metricFilter"`
	Offset              int64Value      `json:"offset"`
	Limit               int64Value      `json:"limit"`
	MetricAggregations  json.RawMessage `json:"metricAggregations"`
	OrderBys            []orderBy       `json:"orderBys"`
	CurrencyCode        string          `json:"currencyCode"`
	CohortSpec          json.RawMessage `json:"cohortSpec"`
	KeepEmptyRows       bool            `json:"keepEmptyRows"`
	ReturnPropertyQuota bool            `json:"returnPropertyQuota"`
	Comparisons         json.RawMessage `json:"comparisons"`
}

type filterExpr struct {
	AndGroup      *filterList `json:"andGroup"`
	OrGroup       *filterList `json:"orGroup"`
	NotExpression *filterExpr `json:"notExpression"`
	Filter        *struct {
		FieldName    string `json:"fieldName"`
		StringFilter *struct {
			MatchType     string `json:"matchType"`
			Value         string `json:"value"`
			CaseSensitive bool   `json:"caseSensitive"`
		} `json:"stringFilter"`
		InListFilter *struct {
			Values        []string `json:"values"`
			CaseSensitive bool     `json:"caseSensitive"`
		} `json:"inListFilter"`
		NumericFilter json.RawMessage `json:"numericFilter"`
		BetweenFilter json.RawMessage `json:"betweenFilter"`
		EmptyFilter   json.RawMessage `json:"emptyFilter"`
	} `json:"filter"`
}

type filterList struct {
	Expressions []*filterExpr `json:"expressions"`
}

type orderBy struct {
	Desc   bool `json:"desc"`
	Metric *struct {
		MetricName string `json:"metricName"`
	} `json:"metric"`
	Dimension *struct {
		DimensionName string `json:"dimensionName"`
		OrderType     string `json:"orderType"`
	} `json:"dimension"`
	Pivot json.RawMessage `json:"pivot"`
}

// query is a validated report request.
type query struct {
	dims, metrics []string
	from, to      string // inclusive, YYYYMMDD
	filter        func(Event) bool
	orderBys      []orderBy
	limit, offset int64
	quota         bool
}

var unknownField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// parseRequest decodes and validates a RunReportRequest body; today is the
// current date in the property's time zone.
func parseRequest(body []byte, today time.Time) (*query, *apiError) {
	var r reportRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			return nil, invalidf("Invalid JSON payload received. Unknown name %q: Cannot find field.", m[1])
		}
		return nil, invalidf("Invalid JSON payload received. %v", err)
	}
	for name, raw := range map[string]json.RawMessage{"metricFilter": r.MetricFilter, "metricAggregations": r.MetricAggregations, "cohortSpec": r.CohortSpec, "comparisons": r.Comparisons} {
		if len(raw) > 0 && string(raw) != "null" {
			return nil, invalidf("ga4fake: %s is not implemented by the fake", name)
		}
	}
	q := &query{limit: int64(r.Limit), offset: int64(r.Offset), quota: r.ReturnPropertyQuota, orderBys: r.OrderBys}
	if len(r.Dimensions) > MaxDimensions {
		return nil, invalidf("Requests are limited to %d dimensions within a request. This request has %d dimensions.", MaxDimensions, len(r.Dimensions))
	}
	if len(r.Metrics) > MaxMetrics {
		return nil, invalidf("Requests are limited to %d metrics within a request. This request has %d metrics.", MaxMetrics, len(r.Metrics))
	}
	for _, d := range r.Dimensions {
		if len(d.DimensionExpression) > 0 {
			return nil, invalidf("ga4fake: dimensionExpression is not implemented by the fake")
		}
		if !isDimension(d.Name) {
			return nil, invalidf("Field %s is not a valid dimension. %s", d.Name, schemaHint)
		}
		if contains(q.dims, d.Name) {
			return nil, invalidf("Duplicate dimension names are not allowed: %s.", d.Name)
		}
		q.dims = append(q.dims, d.Name)
	}
	for _, m := range r.Metrics {
		if m.Expression != "" || m.Invisible {
			return nil, invalidf("ga4fake: metric expression and invisible are not implemented by the fake")
		}
		if metricTypes[m.Name] == "" {
			return nil, invalidf("Field %s is not a valid metric. %s", m.Name, schemaHint)
		}
		if contains(q.metrics, m.Name) {
			return nil, invalidf("Duplicate metric names are not allowed: %s.", m.Name)
		}
		q.metrics = append(q.metrics, m.Name)
	}
	if len(r.DateRanges) == 0 {
		return nil, invalidf("Date ranges must be specified for a non-cohort report.")
	}
	if len(r.DateRanges) > 1 {
		return nil, invalidf("ga4fake: more than one date range (the dateRange dimension) is not implemented by the fake")
	}
	from, err1 := resolveDate(r.DateRanges[0].StartDate, today)
	to, err2 := resolveDate(r.DateRanges[0].EndDate, today)
	for _, e := range []*apiError{err1, err2} {
		if e != nil {
			return nil, e
		}
	}
	if from > to {
		return nil, invalidf("Invalid date range. The startDate %s is after the endDate %s.", r.DateRanges[0].StartDate, r.DateRanges[0].EndDate)
	}
	q.from, q.to = from, to
	switch {
	case q.limit < 0:
		return nil, invalidf("limit must be positive, but it is %d.", q.limit)
	case q.limit > MaxLimit:
		return nil, invalidf("limit %d exceeds the maximum of %d rows per request.", q.limit, MaxLimit)
	case q.limit == 0:
		q.limit = DefaultLimit
	}
	if q.offset < 0 {
		return nil, invalidf("offset must be non-negative, but it is %d.", q.offset)
	}
	if r.DimensionFilter != nil {
		f, err := compileFilter(r.DimensionFilter)
		if err != nil {
			return nil, err
		}
		q.filter = f
	}
	for _, o := range r.OrderBys {
		switch {
		case len(o.Pivot) > 0 || (o.Metric == nil) == (o.Dimension == nil):
			return nil, invalidf("ga4fake: orderBys supports exactly one of metric or dimension")
		case o.Metric != nil && !contains(q.metrics, o.Metric.MetricName):
			return nil, invalidf("OrderBy metric %s must be one of the metrics in the request.", o.Metric.MetricName)
		case o.Dimension != nil && !contains(q.dims, o.Dimension.DimensionName):
			return nil, invalidf("OrderBy dimension %s must be one of the dimensions in the request.", o.Dimension.DimensionName)
		}
	}
	return q, nil
}

var daysAgo = regexp.MustCompile(`^([0-9]+)daysAgo$`)

// resolveDate turns a request date into YYYYMMDD.
func resolveDate(s string, today time.Time) (string, *apiError) {
	switch {
	case s == "today":
		return today.Format("20060102"), nil
	case s == "yesterday":
		return today.AddDate(0, 0, -1).Format("20060102"), nil
	case daysAgo.MatchString(s):
		n, err := strconv.Atoi(daysAgo.FindStringSubmatch(s)[1])
		if err == nil {
			return today.AddDate(0, 0, -n).Format("20060102"), nil
		}
	default:
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t.Format("20060102"), nil
		}
	}
	return "", invalidf("Invalid date: %q. Dates must be in the format YYYY-MM-DD, NdaysAgo, yesterday, or today.", s)
}

// compileFilter validates a dimension filter and returns its predicate.
func compileFilter(fe *filterExpr) (func(Event) bool, *apiError) {
	set := 0
	for _, b := range []bool{fe.AndGroup != nil, fe.OrGroup != nil, fe.NotExpression != nil, fe.Filter != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, invalidf("A FilterExpression must set exactly one of andGroup, orGroup, notExpression or filter.")
	}
	switch {
	case fe.NotExpression != nil:
		inner, err := compileFilter(fe.NotExpression)
		if err != nil {
			return nil, err
		}
		return func(e Event) bool { return !inner(e) }, nil
	case fe.AndGroup != nil || fe.OrGroup != nil:
		list, and := fe.OrGroup, false
		if fe.AndGroup != nil {
			list, and = fe.AndGroup, true
		}
		var preds []func(Event) bool
		for _, x := range list.Expressions {
			if x == nil {
				return nil, invalidf("A FilterExpression must set exactly one of andGroup, orGroup, notExpression or filter.")
			}
			p, err := compileFilter(x)
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		return func(e Event) bool {
			for _, p := range preds {
				if p(e) != and {
					return !and
				}
			}
			return and
		}, nil
	}
	f := fe.Filter
	switch {
	case metricTypes[f.FieldName] != "":
		return nil, invalidf("Metric %s cannot be used in dimensionFilter; use metricFilter.", f.FieldName)
	case !isDimension(f.FieldName):
		return nil, invalidf("Field %s is not a valid dimension. %s", f.FieldName, schemaHint)
	case len(f.NumericFilter) > 0 || len(f.BetweenFilter) > 0 || len(f.EmptyFilter) > 0:
		return nil, invalidf("ga4fake: numericFilter, betweenFilter and emptyFilter are not implemented by the fake")
	case (f.StringFilter == nil) == (f.InListFilter == nil):
		return nil, invalidf("Filter on %s must set exactly one of stringFilter or inListFilter.", f.FieldName)
	}
	field := f.FieldName
	if il := f.InListFilter; il != nil {
		if len(il.Values) == 0 {
			return nil, invalidf("inListFilter on %s must have at least one value.", field)
		}
		return func(e Event) bool {
			v := dimValue(e, field)
			for _, w := range il.Values {
				if v == w || (!il.CaseSensitive && strings.EqualFold(v, w)) {
					return true
				}
			}
			return false
		}, nil
	}
	sf := f.StringFilter
	fold := func(s string) string {
		if sf.CaseSensitive {
			return s
		}
		return strings.ToLower(s)
	}
	want := fold(sf.Value)
	var match func(string) bool
	switch sf.MatchType {
	case "", "MATCH_TYPE_UNSPECIFIED", "EXACT":
		match = func(v string) bool { return fold(v) == want }
	case "BEGINS_WITH":
		match = func(v string) bool { return strings.HasPrefix(fold(v), want) }
	case "ENDS_WITH":
		match = func(v string) bool { return strings.HasSuffix(fold(v), want) }
	case "CONTAINS":
		match = func(v string) bool { return strings.Contains(fold(v), want) }
	case "FULL_REGEXP", "PARTIAL_REGEXP":
		expr := sf.Value
		if sf.MatchType == "FULL_REGEXP" {
			expr = "^(?:" + expr + ")$"
		}
		if !sf.CaseSensitive {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, invalidf("Invalid regular expression %q in stringFilter on %s.", sf.Value, field)
		}
		match = re.MatchString
	default:
		return nil, invalidf("Invalid value at 'dimension_filter.filter.string_filter.match_type' (type.googleapis.com/google.analytics.data.v1beta.Filter.StringFilter.MatchType), %q", sf.MatchType)
	}
	return func(e Event) bool { return match(dimValue(e, field)) }, nil
}

// dimValue is the value of a dimension for an event.
func dimValue(e Event, name string) string {
	v := ""
	switch name {
	case "date":
		v = e.Date
	case "yearMonth":
		v = e.Date[:min(6, len(e.Date))]
	case "eventName":
		v = e.Name
	default:
		v = e.Dims[name]
	}
	if v == "" {
		return "(not set)"
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
