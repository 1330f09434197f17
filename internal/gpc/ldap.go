package gpc

import "net/http"

// LDAP result codes (RFC 4511 Appendix A) that an SDS LDAP search
// (gpconnect-1.6.md §1.2a) can end with, and the HTTP status each is
// reported as by the sandbox's journal and the consumer's errors, so an
// LDAP hop reads like an HTTP one (200 success, below 400 green).
var ldapStatuses = map[uint16]int{
	0:  http.StatusOK,                  // success
	2:  http.StatusBadRequest,          // protocolError
	3:  http.StatusGatewayTimeout,      // timeLimitExceeded
	4:  http.StatusBadRequest,          // sizeLimitExceeded: the query was too broad
	32: http.StatusNotFound,            // noSuchObject
	34: http.StatusBadRequest,          // invalidDNSyntax
	49: http.StatusUnauthorized,        // invalidCredentials
	50: http.StatusForbidden,           // insufficientAccessRights
	51: http.StatusTooManyRequests,     // busy
	52: http.StatusServiceUnavailable,  // unavailable
	53: http.StatusBadRequest,          // unwillingToPerform
	80: http.StatusInternalServerError, // other
}

// LDAPStatus is the HTTP status an LDAP result code is reported as; a code
// not listed is 500.
func LDAPStatus(code uint16) int {
	if st, ok := ldapStatuses[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}
