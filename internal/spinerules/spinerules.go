// Package spinerules holds the rules a mock and the sandbox's judge
// (internal/conformance) both name, so that neither imports the other: the
// SSP's checks, in the order the SSP applies them, with their stable names,
// what each requires, where gpconnect-1.6.md says so and the status a
// failure gets (mocks/ssp pairs each with the code that runs it); PDS's and
// SDS's checks (PDSRules, SDSRules), which mocks/pds and mocks/sds run and
// report through a Report hook as Verdicts, and from which the judge builds
// its table for scenarios and the docs. The JWT's rules are internal/jwt's,
// shared the same way; each interaction's FHIR parameter and body rules stay
// with mocks/provider, which hands them to the judge
// (conformance.RequestRules). The header syntax both judge (IsUUID, IsASID)
// is here too.
package spinerules

import "net/http"

// SSPCheck describes one of the SSP's checks.
type SSPCheck struct {
	Name    string // stable name, e.g. SSP_SENDER_AUTHORISED
	What    string // what must hold
	Section string // where gpconnect-1.6.md says so
	Status  int    // HTTP status when it fails
}

// The names of the SSP's checks, stable for journals, reports and
// scenarios.
const (
	SSPURILength             = "SSP_URI_LENGTH"
	SSPHeadersPresent        = "SSP_HEADERS_PRESENT"
	SSPTraceIDUUID           = "SSP_TRACEID_UUID"
	SSPFromASIDFormat        = "SSP_FROM_ASID_FORMAT"
	SSPToASIDFormat          = "SSP_TO_ASID_FORMAT"
	SSPInteractionKnown      = "SSP_INTERACTION_KNOWN"
	SSPSenderAuthorised      = "SSP_SENDER_AUTHORISED"
	SSPClientCertMatchesFrom = "SSP_CLIENT_CERT_MATCHES_FROM"
	SSPReceiverAuthorised    = "SSP_RECEIVER_AUTHORISED"
	SSPSharingAgreement      = "SSP_SHARING_AGREEMENT"
	SSPTargetMatchesEndpoint = "SSP_TARGET_MATCHES_ENDPOINT"
	SSPMethodAllowed         = "SSP_METHOD_ALLOWED"
	SSPContentType           = "SSP_CONTENT_TYPE"
	SSPAuthorizationPresent  = "SSP_AUTHORIZATION_PRESENT"
)

// SSPChecks are the SSP's checks in the order it applies them. It follows
// gpconnect-1.6.md §9.2 (headers, sender, receiver, target, method) and
// appends the media type and Authorization checks, which concern the
// message rather than its routing. The URI length comes first, as a
// front-end web server rejects an overlong request line before anything
// reads it. Header syntax is checked before the directory lookups so that
// a malformed ASID is reported as malformed, not as unknown. The FOT
// (sender→receiver sharing) check of §1.4 follows the receiver's: a
// practice may refuse named senders.
var SSPChecks = []SSPCheck{
	{SSPURILength, "the request URI is at most 8 KiB", "§1.4", http.StatusRequestURITooLong},
	{SSPHeadersPresent, "Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID are each sent once and not blank (header names in any case)", "§1.3, §1.4", http.StatusBadRequest},
	{SSPTraceIDUUID, "Ssp-TraceID is a UUID", "§1.3", http.StatusBadRequest},
	{SSPFromASIDFormat, "Ssp-From is an ASID: 12 digits", "§1.3", http.StatusBadRequest},
	{SSPToASIDFormat, "Ssp-To is an ASID: 12 digits", "§1.3", http.StatusBadRequest},
	{SSPInteractionKnown, "Ssp-InteractionID is a Foundations or Appointment Management interaction", "§1.6", http.StatusBadRequest},
	{SSPSenderAuthorised, "the Ssp-From ASID has an AS record carrying the interaction", "§1.4, §1.5", http.StatusForbidden},
	{SSPClientCertMatchesFrom, "over TLS, the client certificate's CN or a DNS SAN is the FQDN registered for the Ssp-From ASID", "§1.4", http.StatusForbidden},
	{SSPReceiverAuthorised, "the Ssp-To ASID has an MHS record for the interaction", "§1.4, §1.5", http.StatusForbidden},
	{SSPSharingAgreement, "the receiver's practice has not refused the sender (the FOT sender→receiver check)", "§1.4, §1.5", http.StatusForbidden},
	{SSPTargetMatchesEndpoint, "the target starts exactly with the service root registered for Ssp-To and the interaction, followed by nothing, a clean /path or ?query", "§1.2, §1.4, §9.1", http.StatusBadRequest},
	{SSPMethodAllowed, "the method is GET, POST or PUT", "§1.4, §1.5", http.StatusMethodNotAllowed},
	{SSPContentType, "a POST or PUT has Content-Type application/fhir+json or application/fhir+xml", "§1.3, §1.5", http.StatusUnsupportedMediaType},
	{SSPAuthorizationPresent, "an Authorization header carries the audit JWT", "§1.3, §1.4", http.StatusBadRequest},
}

// SSPCheckNamed returns the SSP's check called name.
func SSPCheckNamed(name string) (SSPCheck, bool) {
	for _, c := range SSPChecks {
		if c.Name == name {
			return c, true
		}
	}
	return SSPCheck{}, false
}

// IsASID reports whether v is an ASID: 12 digits (gpconnect-1.6.md §1.3).
func IsASID(v string) bool {
	if len(v) != 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// IsUUID reports whether v is a UUID in the 8-4-4-4-12 hex form, in either
// case; Spine does not ask for a particular version (Ssp-TraceID, §1.3; PDS's
// X-Request-ID, pds-sds-fhir.md §2.2).
func IsUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
