package bqfake

import (
	"fmt"
	"net/http"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// apiError is an error answered in BigQuery's JSON format: Google's, with
// the reason in errors[0].
type apiError = googlefake.Error

func errorf(status int, reason, format string, args ...any) *apiError {
	return &apiError{Code: status, Status: statusName(status), Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid", format, args...)
}

func notFoundf(format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, "notFound", format, args...)
}

func queryErrf(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalidQuery", format, args...)
}

// statusForReason maps a job error reason to the HTTP status BigQuery uses
// when it reports that error on a request (e.g. getQueryResults).
func statusForReason(reason string) int {
	switch reason {
	case "notFound":
		return http.StatusNotFound
	case "duplicate":
		return http.StatusConflict
	case "accessDenied", "quotaExceeded", "rateLimitExceeded", "billingNotEnabled", "responseTooLarge", "blocked":
		return http.StatusForbidden
	case "backendError", "internalError":
		return http.StatusInternalServerError
	case "notImplemented":
		return http.StatusNotImplemented
	case "failedPrecondition":
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
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
	case 409:
		return "ALREADY_EXISTS"
	case 412:
		return "FAILED_PRECONDITION"
	case 429:
		return "RESOURCE_EXHAUSTED"
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

func defaultMessage(reason string) string {
	switch reason {
	case "rateLimitExceeded":
		return "Exceeded rate limits: too many api requests per user per method for this user_method."
	case "backendError":
		return "Error encountered during execution. Retrying may solve the problem."
	case "internalError":
		return "An internal error occurred and the request could not be completed."
	case "quotaExceeded":
		return "Quota exceeded: Your project exceeded quota for this operation."
	case "accessDenied":
		return "Access Denied: the caller does not have permission."
	case "notFound":
		return "Not found: the requested resource was not found."
	case "duplicate":
		return "Already Exists: the resource already exists."
	}
	return "Injected failure (" + reason + ")."
}

func writeError(w http.ResponseWriter, e *apiError) { e.Write(w) }
