package config

import (
	"fmt"
	"strings"
)

// KPI holds the thresholds used by sql/ (see DESIGN.md, KPI definitions).
type KPI struct {
	// ScoreEvents are the events summed into a customer's activity score (at
	// least one).
	ScoreEvents []string `yaml:"score_events"`
	// ActiveMinScore is the activity score from which an activated customer
	// is active (0 or more).
	ActiveMinScore float64 `yaml:"active_min_score"`
	// ChampionTopPct is the share (percent) of the month's active customers,
	// by score, who are champions (at least one a month; ties included).
	ChampionTopPct float64 `yaml:"champion_top_pct"`
	// ChampionMinScore, when set, makes every active customer whose score is
	// at or above it a champion too, besides the top `champion_top_pct`
	// (default: not set).
	ChampionMinScore *float64 `yaml:"champion_min_score"`
	// DropAlertPct is the drop of a customer's score on the month before
	// (percent) that makes it a churn risk (as does becoming inactive).
	DropAlertPct float64 `yaml:"drop_alert_pct"`
	// UsageEvents are the events that make a user active (default, or
	// empty: every event).
	UsageEvents []string `yaml:"usage_events"`
	// LowUtilizationPct is the licence utilization (active users per seat,
	// percent) below which a customer is flagged.
	LowUtilizationPct float64 `yaml:"low_utilization_pct"`
	// IncreasingUtilizationPts is the rise of licence utilization on the
	// month before (percentage points) that counts as increasing.
	IncreasingUtilizationPts float64 `yaml:"increasing_utilization_pts"`
	// Features are the high-value features whose adoption is tracked, at
	// most 4 (their combinations make the 16 segments of `feature_segments`),
	// each with the keys below: a customer uses a feature in a month when the
	// feature's events add up to `min_uses` (default: none).
	Features []Feature `yaml:"features"`
	// MilestoneEvents are the events a customer must each have done once to
	// reach the `activation` adoption stage (default, or none: the stage is
	// not tracked and its count stays empty).
	MilestoneEvents []string `yaml:"milestone_events"`
	// LowEngagementUsagePct is the usage (active users per user, percent)
	// below which a customer, in the first complete month after the month
	// it was onboarded in, is flagged as low engagement (as it is when not
	// active).
	LowEngagementUsagePct float64 `yaml:"low_engagement_usage_pct"`
}

// MaxFeatures is the most features kpi.features may list (2^4 = 16 segments).
const MaxFeatures = 4

// Feature is a high-value feature: a customer uses it in a month when its
// events add up to at least MinUses.
type Feature struct {
	// Name labels the feature in the outputs. Required; the names of the
	// features must differ.
	Name string `yaml:"name"`
	// Events are the activity events that are uses of the feature.
	// Required: at least one.
	Events []string `yaml:"events"`
	// MinUses is the number of uses in a month from which a customer uses
	// the feature (default 1).
	MinUses int `yaml:"min_uses"`
}

// Settings are the KPI settings as the published descriptions show them
// (see sql/docs.go): "kpi.low_utilization_pct" → "60". A setting left unset
// (champion_min_score) is not there: its description names the key.
func (k KPI) Settings() map[string]string {
	s := map[string]string{
		"kpi.score_events":               strings.Join(k.ScoreEvents, ", "),
		"kpi.usage_events":               strings.Join(k.UsageEvents, ", "),
		"kpi.milestone_events":           strings.Join(k.MilestoneEvents, ", "),
		"kpi.active_min_score":           fmt.Sprintf("%g", k.ActiveMinScore),
		"kpi.champion_top_pct":           fmt.Sprintf("%g", k.ChampionTopPct),
		"kpi.drop_alert_pct":             fmt.Sprintf("%g", k.DropAlertPct),
		"kpi.low_utilization_pct":        fmt.Sprintf("%g", k.LowUtilizationPct),
		"kpi.increasing_utilization_pts": fmt.Sprintf("%g", k.IncreasingUtilizationPts),
		"kpi.low_engagement_usage_pct":   fmt.Sprintf("%g", k.LowEngagementUsagePct),
	}
	if k.ChampionMinScore != nil {
		s["kpi.champion_min_score"] = fmt.Sprintf("%g", *k.ChampionMinScore)
	}
	names := make([]string, len(k.Features))
	for i, f := range k.Features {
		names[i] = f.Name
	}
	s["kpi.features"] = strings.Join(names, ", ")
	for key, v := range s {
		if v == "" {
			s[key] = "none"
		}
	}
	return s
}
