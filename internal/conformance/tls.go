package conformance

import (
	"slices"

	"github.com/spine-sandbox/spine-sandbox/internal/pki"
)

// TLSCheck is one of the sandbox's client-certificate checks under serve
// --tls (internal/sandbox/tls.go, named in pki).
type TLSCheck struct {
	Name, What, Section, Answer string
}

// TLSChecks are enforced by the sandbox's certificate check in every mode
// before strict mode or any mock runs, so they have no strict-mode Answer
// and are not rows of Checks; they are listed so that scenarios can name
// them in expect.checks and docs/conformance-checks.md can show them.
var TLSChecks = []TLSCheck{
	{pki.CheckClientCertificate, "over TLS (serve --tls), PDS, SDS, the SSP and a provider root get a client certificate chained to the CA, valid now and not in the CRL",
		"gpconnect-1.6.md §1.4, §1.5", "sandbox, in every mode: 496 with no certificate, 495 for a bad one (plain text, no FHIR body, as Spine Core)"},
	{pki.CheckProviderFromSSP, "over TLS, a provider service root reached over the network gets the SSP's client certificate",
		"gpconnect-1.6.md §1.4", "sandbox, in every mode: 403 (plain text): a consumer going round the SSP"},
}

func isTLSCheck(name string) bool {
	return slices.ContainsFunc(TLSChecks, func(c TLSCheck) bool { return c.Name == name })
}
