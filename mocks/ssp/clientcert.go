package ssp

import (
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// CheckClientCertMatchesFrom is the SSP's certificate check
// (gpconnect-1.6.md §1.4): the client certificate's CN or a DNS SAN is
// the FQDN registered for the Ssp-From ASID.
const CheckClientCertMatchesFrom = spinerules.SSPClientCertMatchesFrom

// checkClientCert compares the verified client certificate with the
// sender's registered FQDN. Over plain HTTP there is no certificate and
// nothing to compare; whether one was required, and whether it chains to
// the CA and is unrevoked, the sandbox decided before the SSP ran (495 and
// 496, internal/sandbox/tls.go). The spec gives no display for this
// refusal; the sandbox answers 403 forbidden in the style of the sender
// check's ASID_CHECK_FAILED_MESSAGESENDER_<fromAsid> (§1.5).
func checkClientCert(x *exchange) *Failure {
	if x.r.TLS == nil || len(x.r.TLS.PeerCertificates) == 0 {
		return nil
	}
	from, _ := x.value(hFrom)
	fqdn, ok := x.s.cfg.World.SenderFQDN(from)
	if ok && pki.Matches(x.r.TLS.PeerCertificates[0], fqdn) {
		return nil
	}
	return fail(CheckClientCertMatchesFrom, http.StatusForbidden, "forbidden", "CERTIFICATE_CHECK_FAILED_MESSAGESENDER_"+from)
}
