package connectors

import (
	"strings"

	"github.com/uptake-dev/uptake/config"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

// GA4Use is what a GA4 source (Data API, BigQuery export, export files)
// reads and what for.
type GA4Use struct {
	// Property is the GA4 property's number ("" when the config does not
	// say, e.g. export files without property_id).
	Property string
	// Key is the config key that names the property (property_id, dataset).
	Key string
	// KPI is false for a source pulled for `uptake reconcile` only
	// (use: reconcile): its rows land in the raw_reconcile_* tables, which
	// no KPI reads.
	KPI bool
}

// GA4Sourcer is implemented by the GA4 sources.
type GA4Sourcer interface {
	GA4Use() GA4Use
}

// ConfiguredSource is a source with the config block it was built from.
type ConfiguredSource struct {
	Plugin config.Plugin
	Source Source
}

// CheckGA4Properties refuses two sources that feed the KPIs from the same
// GA4 property: the Data API and the export of one property describe the
// same events, so together they would double every GA4 count. It returns one
// error per such pair, naming both sources with their config file and line;
// sources that are not GA4 sources, or whose property is unknown, are
// skipped.
func CheckGA4Properties(sources []ConfiguredSource) []error {
	var errs []error
	first := map[string]ConfiguredSource{} // property -> its first KPI source
	for _, s := range sources {
		g, ok := s.Source.(GA4Sourcer)
		if !ok {
			continue
		}
		use := g.GA4Use()
		if !use.KPI || use.Property == "" {
			continue
		}
		prev, seen := first[use.Property]
		if !seen {
			first[use.Property] = s
			continue
		}
		prevKey := prev.Source.(GA4Sourcer).GA4Use().Key
		errs = append(errs, s.Plugin.PluginErrorf(use.Key,
			"reads GA4 property %s into the KPIs, as does %s %q (%s:%d): together they would count every GA4 event twice; "+
				"add `use: reconcile` to one of them (uptake reconcile compares the two, the KPIs read the other)",
			use.Property, prev.Plugin.Kind, prev.Plugin.Name, prev.Plugin.File, keyLine(prev.Plugin, prevKey)))
	}
	return errs
}

// ParseGA4Use reads a GA4 source's `use:` setting: "" or "kpi" (the
// default) feeds the KPIs, "reconcile" only `uptake reconcile`.
func ParseGA4Use(p config.Plugin, use string) (kpi bool, err error) {
	switch use {
	case "", "kpi":
		return true, nil
	case "reconcile":
		return false, nil
	}
	return false, p.PluginErrorf("use", "use must be kpi (the default: the rows feed the KPIs) or reconcile (pulled for uptake reconcile only), not %q", use)
}

// GA4Table is the raw table a GA4 source loads for a contract table: the
// table itself for a KPI source, its raw_reconcile_ twin for a source
// pulled for reconcile only (raw_activity -> raw_reconcile_activity).
func GA4Table(table string, kpi bool) string {
	if kpi {
		return table
	}
	return uptakesql.ReconcileTwin(table)
}

// PropertyOfDataset is the GA4 property of an export dataset named
// analytics_<property id> ("" for any other name).
func PropertyOfDataset(dataset string) string {
	id, ok := strings.CutPrefix(dataset, "analytics_")
	if !ok || id == "" || strings.Trim(id, "0123456789") != "" {
		return ""
	}
	return id
}

// keyLine is the line of a key of a config block (the block's line when
// the key is absent).
func keyLine(p config.Plugin, key string) int {
	if p.Node == nil {
		return 0
	}
	for i := 0; i+1 < len(p.Node.Content); i += 2 {
		if p.Node.Content[i].Value == key {
			return p.Node.Content[i].Line
		}
	}
	return p.Node.Line
}
