package world

import (
	"net/url"
	"strings"
)

// The FQDNs the sandbox registers for systems whose scenario gives none.
// ".invalid" (RFC 2606) can never resolve, so a default cannot be mistaken
// for a real system's name; the test PKI (spine-sandbox certs) issues
// certificates for exactly these names.
const (
	consumerFQDNSuffix = ".consumer.spine-sandbox.invalid"
	providerFQDNSuffix = ".provider.spine-sandbox.invalid"
)

// ConsumerFQDN is the default FQDN of the consumer system of organisation
// ods, e.g. a1001.consumer.spine-sandbox.invalid.
func ConsumerFQDN(ods string) string { return strings.ToLower(ods) + consumerFQDNSuffix }

// ProviderFQDN is the default FQDN of practice ods's provider system,
// e.g. a20047.provider.spine-sandbox.invalid.
func ProviderFQDN(ods string) string { return strings.ToLower(ods) + providerFQDNSuffix }

// RegisteredFQDN returns the consumer system's registered FQDN.
func (c ConsumerSystem) RegisteredFQDN() string {
	if c.FQDN != "" {
		return strings.ToLower(c.FQDN)
	}
	return ConsumerFQDN(c.ODS)
}

// RegisteredFQDN returns the provider system's registered FQDN, what
// SDS returns as nhsMhsFQDN: the scenario's fqdn, else the host of the
// practice's endpoint when it is a real system's, else ProviderFQDN(ODS)
// for the sandbox's own provider (which is reached on whatever address
// the sandbox is, so its host names no system).
func (p Practice) RegisteredFQDN() string {
	if p.FQDN != "" {
		return strings.ToLower(p.FQDN)
	}
	if u, err := url.Parse(p.Endpoint); err == nil && p.Endpoint != "" && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return ProviderFQDN(p.ODS)
}

// SenderFQDN returns the FQDN registered for the system with the given
// ASID (the consumer's or a practice's provider), and whether one exists:
// what the SSP compares a client certificate's CN/SAN with
// (gpconnect-1.6.md §1.4).
func (w *World) SenderFQDN(asid string) (string, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.consumer.ASID == asid {
		return w.consumer.RegisteredFQDN(), true
	}
	for _, ods := range w.odsOrder {
		if p := w.practices[ods]; p.ProviderASID == asid {
			return p.RegisteredFQDN(), true
		}
	}
	return "", false
}
