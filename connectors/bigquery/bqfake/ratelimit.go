package bqfake

import (
	"net/http"
	"time"
)

// BigQuery allows 5 table metadata update operations per table every 10
// seconds ("Maximum rate of table metadata update operations per table").
// They include tables.insert, tables.patch and tables.update, and every job
// that writes to the table: loads, copies, queries with a destination and
// DML statements. The fake counts, per table, the operations that took
// effect in the last window and refuses one more past the limit with
// BigQuery's 403 rateLimitExceeded. It counts each DML statement of a
// multi-statement transaction as one operation (BigQuery's documentation
// does not say whether a transaction counts once; counting each is the
// stricter reading).
const (
	DefaultTableUpdateLimit  = 5
	DefaultTableUpdateWindow = 10 * time.Second
)

const tableUpdateRateMessage = "Exceeded rate limits: too many table update operations for this table. " +
	"For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"

// SetTableUpdateRate changes the per-table limit on table update operations
// (n operations per window); n <= 0 turns the limit off.
func (s *Server) SetTableUpdateRate(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateLimit, s.updateWindow = n, window
}

// TableUpdates returns how many table update operations on the table took
// effect within the current window.
func (s *Server) TableUpdates(datasetID, tableID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recentUpdates(tkey{datasetID, tableID}))
}

// recentUpdates drops the operations older than the window. The lock is held.
func (s *Server) recentUpdates(k tkey) []time.Time {
	if s.updates == nil {
		s.updates = map[tkey][]time.Time{}
	}
	cut := time.Now().Add(-s.updateWindow)
	ts := s.updates[k]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	s.updates[k] = ts
	return ts
}

// takeTableUpdates records one update operation per entry of keys (a table
// may appear several times), or none of them and a 403 rateLimitExceeded
// error if any table would go past the limit. The lock is held.
func (s *Server) takeTableUpdates(keys ...tkey) *apiError {
	if s.updateLimit <= 0 {
		return nil
	}
	n := map[tkey]int{}
	for _, k := range keys {
		n[k]++
	}
	for k, c := range n {
		if len(s.recentUpdates(k))+c > s.updateLimit {
			return errorf(http.StatusForbidden, "rateLimitExceeded", "%s", tableUpdateRateMessage)
		}
	}
	now := time.Now()
	for _, k := range keys {
		s.updates[k] = append(s.updates[k], now)
	}
	return nil
}
