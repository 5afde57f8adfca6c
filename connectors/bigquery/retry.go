package bigquery

import (
	"errors"
	"fmt"
	"net/http"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"

	"github.com/uptake-dev/uptake/connectors/googleauth"
)

// retryable tells the errors that a later try may not get.
func retryable(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		if gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500 {
			return true
		}
		for _, e := range gerr.Errors {
			if e.Reason == "rateLimitExceeded" || e.Reason == "jobRateLimitExceeded" || e.Reason == "backendError" || e.Reason == "internalError" {
				return true
			}
		}
		return false
	}
	var berr *bq.Error
	if errors.As(err, &berr) {
		return berr.Reason == "rateLimitExceeded" || berr.Reason == "jobRateLimitExceeded" || berr.Reason == "backendError" || berr.Reason == "internalError"
	}
	return false
}

// explain turns permission and quota errors into what to do about them.
func (d *Destination) explain(err error) error {
	if err == nil {
		return nil
	}
	reason, code := "", 0
	var gerr *googleapi.Error
	var berr *bq.Error
	switch {
	case errors.As(err, &gerr):
		code = gerr.Code
		if len(gerr.Errors) > 0 {
			reason = gerr.Errors[0].Reason
		}
	case errors.As(err, &berr):
		reason = berr.Reason
	}
	switch {
	case reason == "billingNotEnabled":
		return fmt.Errorf("%w\n  Project %s has no billing: the BigQuery sandbox cannot run the DML that publishes (and expires tables after 60 days); enable billing on the project", err, d.spec.Project)
	case reason == "accessDenied" || code == http.StatusForbidden && reason != "quotaExceeded" && reason != "rateLimitExceeded":
		return fmt.Errorf("%w\n  The credentials lack a permission: the service account needs BigQuery Data Editor (roles/bigquery.dataEditor) on dataset %s (or on project %s, to create the dataset) and BigQuery Job User (roles/bigquery.jobUser) on project %s",
			err, d.spec.Dataset, d.spec.Project, d.spec.Project)
	case code == http.StatusUnauthorized || googleauth.Unauthorized(err):
		return fmt.Errorf("%w\n  %s", err, googleauth.Hint401)
	case reason == "quotaExceeded":
		return fmt.Errorf("%w\n  A BigQuery quota of project %s is used up (load jobs per table and per day, or query bytes): wait for it to reset or raise it in the Google Cloud console", err, d.spec.Project)
	}
	return err
}
