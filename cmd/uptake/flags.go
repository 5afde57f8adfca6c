package main

import (
	"fmt"
	"time"
)

// Layouts of the date and month flags.
const (
	dayLayout   = "2006-01-02"
	monthLayout = "2006-01"
)

// parseFlagTime parses the value of a date (dayLayout) or month
// (monthLayout) flag; an empty value is the zero time.
func parseFlagTime(flag, value, layout string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(layout, value)
	if err != nil {
		example := "a date such as 2026-11-01"
		if layout == monthLayout {
			example = "a month such as 2026-01"
		}
		return time.Time{}, fmt.Errorf("%s: expected %s, not %q", flag, example, value)
	}
	return t, nil
}
