package ga4

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	ga "google.golang.org/api/analyticsdata/v1beta"

	"github.com/uptake-dev/uptake/connectors"
)

// This file runs one report: its pages, its rows into a temporary table, and
// what GA4 says of its numbers (thresholding, the (other) row, sampling,
// quota), gathered in reportStats.

func dateRange(from, to time.Time) *ga.DateRange {
	return &ga.DateRange{StartDate: from.Format("2006-01-02"), EndDate: to.Format("2006-01-02")}
}

// parseDay reads a date (YYYYMMDD) or yearMonth (YYYYMM: its first day)
// dimension value.
func parseDay(v string) (time.Time, error) {
	layout := "20060102"
	if len(v) == 6 {
		layout = "200601"
	}
	day, err := time.Parse(layout, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", v, err)
	}
	return day, nil
}

// reportStats collects what a report said beyond its rows.
type reportStats struct {
	rows, notSet, other        int64
	thresholded, dataLoss      bool
	samplesRead, samplingSpace int64 // summed over pages; 0: not sampled
	timeZone                   string
	tokensLeft, consumed       int64
}

// add merges what another report of the same kind said: any flag set,
// counts summed, the most sampled report's sampling.
func (st *reportStats) add(o *reportStats) {
	st.rows += o.rows
	st.notSet += o.notSet
	st.other += o.other
	st.thresholded = st.thresholded || o.thresholded
	st.dataLoss = st.dataLoss || o.dataLoss
	if o.samplingSpace > 0 && (st.samplingSpace == 0 || float64(o.samplesRead)/float64(o.samplingSpace) < float64(st.samplesRead)/float64(st.samplingSpace)) {
		st.samplesRead, st.samplingSpace = o.samplesRead, o.samplingSpace
	}
	if o.timeZone != "" {
		st.timeZone = o.timeZone
	}
}

// quality is the report's row of raw_source_quality for each day of the window.
func (st *reportStats) quality(s *Source, run connectors.Run, report string, from, to time.Time) [][]driver.Value {
	var rows [][]driver.Value
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		rows = append(rows, []driver.Value{d, s.name, report, st.thresholded, st.dataLoss, st.other,
			st.samplingSpace > 0, st.samplesRead, st.samplingSpace, st.timeZone, run.ID, s.tag()})
	}
	return rows
}

func (st *reportStats) warnings(s *Source, what string) []string {
	var w []string
	switch {
	case st.other > 0:
		w = append(w, fmt.Sprintf("ga4 %s: %d %s fell into GA4's \"(other)\" row (too many distinct values): they are left out", s.name, st.other, what))
	case st.dataLoss:
		w = append(w, fmt.Sprintf("ga4 %s: GA4 set dataLossFromOtherRow on the %s report: some of its rows were merged into \"(other)\" "+
			"in GA4's tables (too many distinct values), so the figures may be incomplete", s.name, what))
	}
	if st.thresholded {
		w = append(w, fmt.Sprintf("ga4 %s: GA4 thresholded the %s report (Google signals): small counts may be missing", s.name, what))
	}
	if st.samplingSpace > 0 {
		w = append(w, fmt.Sprintf("ga4 %s: GA4 sampled the %s report: %d of %d events read (%.1f %%); counts are estimates",
			s.name, what, st.samplesRead, st.samplingSpace, 100*float64(st.samplesRead)/float64(st.samplingSpace)))
	}
	if st.notSet > 0 {
		w = append(w, fmt.Sprintf("ga4 %s: %d %s had no %s: they are left out", s.name, st.notSet, what, s.spec.CustomerDimension))
	}
	if st.timeZone != "" && s.timezone != "" && st.timeZone != s.timezone {
		w = append(w, fmt.Sprintf("ga4 %s: the property counts days in %s, the config in %s: GA4 days are the property's", s.name, st.timeZone, s.timezone))
	}
	return w
}

// report reads every page of a report and appends the rows convert keeps
// to table.
func (s *Source) report(ctx context.Context, rows connectors.RowWriter, svc *ga.Service, req *ga.RunReportRequest, table string, st *reportStats,
	convert func(*ga.Row) ([]driver.Value, bool, error)) error {
	req.Limit = s.pageSize
	for offset := int64(0); ; {
		req.Offset = offset
		var resp *ga.RunReportResponse
		err := s.backoff.Do(ctx, "ga4 runReport", retryable, func(ctx context.Context) (err error) {
			resp, err = svc.Properties.RunReport("properties/"+s.spec.PropertyID, req).Context(ctx).Do()
			return err
		})
		if err != nil {
			return s.explain(err)
		}
		if md := resp.Metadata; md != nil {
			st.thresholded = st.thresholded || md.SubjectToThresholding
			st.dataLoss = st.dataLoss || md.DataLossFromOtherRow
			st.timeZone = md.TimeZone
			if offset == 0 { // the same report on every page: count its sampling once
				for _, sm := range md.SamplingMetadatas {
					st.samplesRead += sm.SamplesReadCount
					st.samplingSpace += sm.SamplingSpaceSize
				}
			}
		}
		var values [][]driver.Value
		for _, r := range resp.Rows {
			if isOther(r) {
				if n, err := strconv.ParseInt(r.MetricValues[0].Value, 10, 64); err == nil {
					st.other += n
				} else {
					st.other++
				}
				continue
			}
			v, keep, err := convert(r)
			if err != nil {
				return fmt.Errorf("ga4 %s: row %v: %w", s.name, r.DimensionValues, err)
			}
			if keep {
				values = append(values, v)
			}
		}
		if err := rows.Append(ctx, table, values); err != nil {
			return err
		}
		st.rows += int64(len(values))
		offset += int64(len(resp.Rows))
		if q := resp.PropertyQuota; q != nil && q.TokensPerDay != nil {
			st.tokensLeft = q.TokensPerDay.Remaining
			if offset < resp.RowCount && q.TokensPerDay.Remaining < s.spec.MinDailyTokens {
				return fmt.Errorf("ga4 %s: property %s has %d tokens left today (below min_daily_tokens = %d): stopping before the daily quota is gone; nothing is published, the next run (after the quota resets at midnight Pacific time) pulls the rest",
					s.name, s.spec.PropertyID, q.TokensPerDay.Remaining, s.spec.MinDailyTokens)
			}
		}
		if len(resp.Rows) == 0 || offset >= resp.RowCount {
			return nil
		}
	}
}

func isOther(r *ga.Row) bool {
	for _, d := range r.DimensionValues {
		if d.Value == "(other)" {
			return true
		}
	}
	return false
}
