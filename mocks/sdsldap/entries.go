package sdsldap

import (
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// BaseDN is where Spine's directory keeps its services (gpconnect-1.6.md
// §1.2a: "ou=services, o=nhs"; the space after the comma is not
// significant in a DN).
const BaseDN = "ou=services,o=nhs"

// The object classes of the records GP Connect reads (§1.2a).
const (
	classMHS = "nhsMhs" // a message handling service: one per practice and interaction
	classAS  = "nhsAs"  // an accredited system: its ASID and interactions
)

// attr is one attribute of an entry, its name spelled as Spine spells it.
type attr struct {
	name   string
	values []string
}

// entry is one directory entry.
type entry struct {
	dn    string
	attrs []attr
}

// get returns the values of the attribute named name, compared
// case-insensitively as LDAP compares attribute descriptions (RFC 4512
// §2.5).
func (e *entry) get(name string) ([]string, bool) {
	for _, a := range e.attrs {
		if strings.EqualFold(a.name, name) {
			return a.values, true
		}
	}
	return nil, false
}

// entries derives the directory from the session's world on every search,
// so the LDAP directory and the FHIR SDS (mocks/sds) answer from the same
// facts and a change to the world shows in both at once. The order is
// stable: the two containers, then per practice its MHS records (one per
// interaction, §1.2a: "an MHS record for each interaction") and its AS
// record, then the consumer's AS record.
func entries(w *world.World) []entry {
	out := []entry{
		{dn: "o=nhs", attrs: []attr{{"objectClass", []string{"top", "organization"}}, {"o", []string{"nhs"}}}},
		{dn: BaseDN, attrs: []attr{{"objectClass", []string{"top", "organizationalUnit"}}, {"ou", []string{"services"}}}},
	}
	for _, p := range w.Practices() {
		root := w.ServiceRoot(p)
		// nhsMhsFQDN is the FQDN the world registers for the provider
		// system, as the FHIR SDS returns it (world.Practice.RegisteredFQDN).
		host := p.RegisteredFQDN()
		for _, in := range p.Interactions {
			out = append(out, mhsEntry(p, in, root, host))
		}
		// A practice has no supplier of its own in the world, so its
		// manufacturing organisation is the practice itself, as in the
		// FHIR SDS's Device.
		out = append(out, asEntry(p.ODS, p.ProviderASID, p.PartyKey, p.ODS, p.Name, p.Interactions))
	}
	// A consumer has an AS record only: interactions on its AS record, no
	// MHS record (§1.2a's registration rules).
	if c := w.Consumer(); c.ASID != "" {
		manufacturer := c.Manufacturer
		if manufacturer == "" {
			manufacturer = c.ODS
		}
		out = append(out, asEntry(c.ODS, c.ASID, c.PartyKey, manufacturer, c.Name, c.Interactions))
	}
	return out
}

// mhsEntry is a practice's MHS record for one interaction: the endpoint the
// FHIR SDS hands out as Endpoint.address, its host, the party key, and the
// MHS id the FHIR SDS gives as the Endpoint's nhsMhsId identifier.
func mhsEntry(p world.Practice, in gpc.Interaction, root, host string) entry {
	id := world.MHSID(p.ODS, in)
	attrs := make([]attr, 0, 9)
	attrs = append(attrs,
		attr{"objectClass", []string{"top", classMHS}},
		attr{"uniqueIdentifier", []string{id}},
		attr{"nhsIDCode", []string{p.ODS}},
		attr{"nhsMhsSvcIA", []string{string(in)}},
		attr{"nhsMhsEndPoint", []string{root}},
	)
	if p.PartyKey != "" {
		attrs = append(attrs, attr{"nhsMhsPartyKey", []string{p.PartyKey}})
	}
	if host != "" {
		attrs = append(attrs, attr{"nhsMhsFQDN", []string{host}})
	}
	attrs = append(attrs, attr{"nhsMhsCPAId", []string{id}}, attr{"nhsMHSId", []string{id}})
	return entry{dn: "uniqueIdentifier=" + id + "," + BaseDN, attrs: attrs}
}

// asEntry is an accredited system's record: the ASID as its
// uniqueIdentifier, every interaction it may use, its supplier.
func asEntry(ods, asid, partyKey, manufacturer, name string, ins []gpc.Interaction) entry {
	attrs := []attr{
		{"objectClass", []string{"top", classAS}},
		{"uniqueIdentifier", []string{asid}},
		{"nhsIDCode", []string{ods}},
		{"nhsAsClient", []string{ods}},
	}
	if partyKey != "" {
		attrs = append(attrs, attr{"nhsMhsPartyKey", []string{partyKey}})
	}
	svc := make([]string, len(ins))
	for i, in := range ins {
		svc[i] = string(in)
	}
	if len(svc) > 0 {
		attrs = append(attrs, attr{"nhsAsSvcIA", svc})
	}
	attrs = append(attrs, attr{"nhsMhsManufacturerOrg", []string{manufacturer}})
	if name != "" {
		attrs = append(attrs, attr{"nhsProductName", []string{name}})
	}
	return entry{dn: "uniqueIdentifier=" + asid + "," + BaseDN, attrs: attrs}
}
