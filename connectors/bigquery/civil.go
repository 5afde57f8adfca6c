package bigquery

import (
	"time"

	"cloud.google.com/go/civil"
)

func civilDate(t time.Time) civil.Date { return civil.DateOf(t) }
