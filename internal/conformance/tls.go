package conformance

import "github.com/spine-sandbox/spine-sandbox/internal/pki"

// tlsChecks are the sandbox's client-certificate checks under serve --tls
// (internal/sandbox/tls.go, named in pki). The certificate gate enforces
// them in every mode before any mock runs, so they have no strict-mode
// Answer and are not rows of Checks; they are known here so scenarios can
// name them in expect.checks.
var tlsChecks = []string{pki.CheckClientCertificate, pki.CheckProviderFromSSP}
