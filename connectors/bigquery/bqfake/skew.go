package bqfake

import (
	"encoding/json"
	"strings"
)

// loadSkew is a silent data loss or duplication injected by SkewNextLoad.
type loadSkew struct {
	match func(map[string]any) bool
	delta int
}

// SkewNextLoad makes the next load job whose configuration satisfies match
// (nil: any load) succeed, and report in its statistics the rows it read,
// while it actually stores delta rows more (its first rows twice) or -delta
// rows fewer (its last rows dropped): a silent discrepancy that only reading
// the table back reveals.
func (s *Server) SkewNextLoad(match func(jobConfig map[string]any) bool, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skews = append(s.skews, &loadSkew{match: match, delta: delta})
}

// skewLoad applies and consumes the first matching SkewNextLoad rule. The
// lock is held.
func (s *Server) skewLoad(cfg any, rows []map[string]any) []map[string]any {
	if len(s.skews) == 0 {
		return rows
	}
	b, _ := json.Marshal(cfg)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for i, k := range s.skews {
		if k.match != nil && !k.match(m) {
			continue
		}
		s.skews = append(s.skews[:i:i], s.skews[i+1:]...)
		switch {
		case k.delta > 0:
			extra := cloneRows(rows[:min(k.delta, len(rows))])
			return append(append([]map[string]any(nil), rows...), extra...)
		case k.delta < 0:
			return rows[:max(len(rows)+k.delta, 0)]
		}
		return rows
	}
	return rows
}

// insertSkew is a silent discrepancy injected by SkewNextInsert.
type insertSkew struct {
	table string
	delta int
}

// SkewNextInsert makes the next INSERT into a table named table (its last
// name part) report the rows it selected while it stores delta rows more or
// -delta rows fewer: a fault inside the publish transaction itself, which
// only reading the table back after the commit reveals.
func (s *Server) SkewNextInsert(table string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insertSkews = append(s.insertSkews, &insertSkew{table: table, delta: delta})
}

// skewInsert applies and consumes the first SkewNextInsert rule for the
// table tname ("project.dataset.table"; the rule may name the table alone
// or "dataset.table"). The lock is held.
func (s *Server) skewInsert(tname string, rows []map[string]any) []map[string]any {
	for i, k := range s.insertSkews {
		if tname != k.table && !strings.HasSuffix(tname, "."+k.table) {
			continue
		}
		s.insertSkews = append(s.insertSkews[:i:i], s.insertSkews[i+1:]...)
		switch {
		case k.delta > 0:
			return append(append([]map[string]any(nil), rows...), cloneRows(rows[:min(k.delta, len(rows))])...)
		case k.delta < 0:
			return rows[:max(len(rows)+k.delta, 0)]
		}
		return rows
	}
	return rows
}
