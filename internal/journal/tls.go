package journal

import (
	"crypto/tls"
)

// TLSFacts are what a hop's TLS connection was: the version, the cipher
// suite and the client certificate's subject ("" when none was sent).
// Plain HTTP hops and the SSP's in-process forwards have none.
type TLSFacts struct {
	Version       string `json:"version"`
	Cipher        string `json:"cipher"`
	ClientSubject string `json:"client_subject,omitempty"`
}

// TLSFactsOf returns the facts of a connection, nil for plain HTTP.
func TLSFactsOf(cs *tls.ConnectionState) *TLSFacts {
	if cs == nil {
		return nil
	}
	f := &TLSFacts{Version: tls.VersionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) > 0 {
		f.ClientSubject = cs.PeerCertificates[0].Subject.String()
	}
	return f
}
