package userevents

import (
	"errors"
	"fmt"
)

// Domain error codes. The HTTP layer maps each code, per service, to an HTTP
// status and a wire error_code; that table lives in http/error.go.
const (
	EINVALID         = "invalid"         // the request is malformed or a value is out of range
	EEMPTY           = "empty"           // the request body is missing
	ENOTFOUND        = "not_found"       // a named resource does not exist
	ECONFLICT        = "conflict"        // the resource already exists
	EQUOTA           = "quota"           // a quota would be exceeded
	EUNAUTHENTICATED = "unauthenticated" // no valid credential
	ELOCKED          = "locked"          // the credential is locked after repeated failures
	EFORBIDDEN       = "forbidden"       // the principal lacks a permission
	ETOOLARGE        = "too_large"       // the request body exceeds the limit
	EINTERNAL        = "internal"        // a fault of the server
	EUNAVAILABLE     = "unavailable"     // a dependency is down; the client may retry
)

// Error is a domain error that the HTTP layer can show to a client. Message
// is written for the client: it names the value that failed and the fix.
// Errors of any other type are internal and are never shown.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("userevents error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-facing message of the first *Error in
// err's chain, or a generic message for an internal error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error; retry later, and report the X-Request-Id if it persists."
}
