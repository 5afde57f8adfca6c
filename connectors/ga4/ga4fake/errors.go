package ga4fake

import (
	"fmt"
	"net/http"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// apiError is an error answered in Google's JSON error format (the Data
// API's has no reason).
type apiError = googlefake.Error

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Code: status, Status: statusName(status), Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

func statusName(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
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
// worded as the Data API words it for that status.
func injectedError(status int) *apiError {
	switch status {
	case http.StatusTooManyRequests:
		return errorf(status, "Exhausted property tokens per hour for a property. These quota tokens will return in under an hour. To learn more, see https://developers.google.com/analytics/devguides/reporting/data/v1/quotas")
	case http.StatusInternalServerError:
		return errorf(status, "Internal error encountered.")
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return errorf(status, "The service is currently unavailable.")
	case http.StatusForbidden:
		return errorf(status, "User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.")
	case http.StatusUnauthorized:
		return errorf(status, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
	}
	return errorf(status, "ga4fake: injected failure (HTTP %d).", status)
}

func writeError(w http.ResponseWriter, e *apiError) { e.Write(w) }

func writeJSON(w http.ResponseWriter, v any) { googlefake.WriteJSON(w, v) }
