package sheetsfake

import (
	"fmt"
	"net/http"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// apiError is an error answered in Google's JSON error format (Sheets'
// has no reason, and details for quota errors).
type apiError = googlefake.Error

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Code: status, Status: statusName(status), Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

// reqError is an invalid sub-request of a batchUpdate. The batch handler
// prefixes its message with "Invalid requests[i].kind: " as Sheets does.
type reqError struct{ message string }

func (e *reqError) Error() string { return e.message }

func bad(format string, args ...any) *reqError {
	return &reqError{message: fmt.Sprintf(format, args...)}
}

func statusName(code int) string {
	switch code {
	case 400, 413:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if code >= 500 {
		return "INTERNAL"
	}
	return "UNKNOWN"
}

// injectedError is the error answered for a failure injected by FailNext,
// worded as Sheets words it for that status.
func injectedError(status int, method string) *apiError {
	switch status {
	case http.StatusTooManyRequests:
		kind, limit := "Write requests", "Write requests per minute per user"
		metric, quota := "sheets.googleapis.com/write_requests", "WriteRequestsPerMinutePerUser"
		if method == http.MethodGet {
			kind, limit = "Read requests", "Read requests per minute per user"
			metric, quota = "sheets.googleapis.com/read_requests", "ReadRequestsPerMinutePerUser"
		}
		e := errorf(status, "Quota exceeded for quota metric '%s' and limit '%s' of service 'sheets.googleapis.com' for consumer 'project_number:0'.", kind, limit)
		e.Details = []map[string]any{{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "RATE_LIMIT_EXCEEDED",
			"domain": "googleapis.com",
			"metadata": map[string]string{
				"service":           "sheets.googleapis.com",
				"quota_metric":      metric,
				"quota_limit":       quota,
				"quota_limit_value": "60",
				"consumer":          "projects/0",
			},
		}}
		return e
	case http.StatusInternalServerError:
		return errorf(status, "Internal error encountered.")
	case http.StatusServiceUnavailable:
		return errorf(status, "The service is currently unavailable.")
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return errorf(status, "The service is currently unavailable.")
	case http.StatusUnauthorized:
		return errorf(status, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
	case http.StatusForbidden:
		return errorf(status, "The caller does not have permission")
	case http.StatusNotFound:
		return errorf(status, "Requested entity was not found.")
	}
	return errorf(status, "sheetsfake: injected failure (HTTP %d).", status)
}

func writeError(w http.ResponseWriter, e *apiError) { e.Write(w) }
