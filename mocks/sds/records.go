package sds

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// FHIR URLs of the SDS resources (pds-sds-fhir.md §3.4).
const (
	extInteraction    = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId"
	extManufacturer   = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ManufacturingOrganisation"
	systemConnection  = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
	systemPayloadType = "http://terminology.hl7.org/CodeSystem/endpoint-payload-type"
)

// mhsRecord is one MHS (nhsMhs) record: a practice's service root for one
// interaction. GP Connect needs one per interaction, all with the same
// address and party key (gpconnect-1.6.md §1.2a).
type mhsRecord struct {
	ods, interaction, partyKey, address string
	fqdn                                string // the provider system's registered FQDN (nhsMhsFQDN)
}

// asRecord is one AS (nhsAs) record: an accredited system and the
// interactions it may send or receive.
type asRecord struct {
	ods, asid, partyKey, manufacturer string
	interactions                      []gpc.Interaction
}

// mhsRecords lists every practice's MHS records, in scenario order. The
// consumer has none: that is how SDS tells providers from consumers.
func (s *server) mhsRecords() []mhsRecord {
	var out []mhsRecord
	for _, p := range s.world.Practices() {
		root := s.world.ServiceRoot(p)
		for _, in := range p.Interactions {
			out = append(out, mhsRecord{ods: p.ODS, interaction: string(in), partyKey: p.PartyKey, address: root, fqdn: p.RegisteredFQDN()})
		}
	}
	return out
}

// asRecords lists the practices' AS records and then the consumer's. A
// practice has no supplier of its own in the world, so its manufacturing
// organisation is the practice itself.
func (s *server) asRecords() []asRecord {
	var out []asRecord
	for _, p := range s.world.Practices() {
		out = append(out, asRecord{ods: p.ODS, asid: p.ProviderASID, partyKey: p.PartyKey, manufacturer: p.ODS, interactions: p.Interactions})
	}
	c := s.world.Consumer()
	if c.ASID != "" {
		out = append(out, asRecord{ods: c.ODS, asid: c.ASID, partyKey: c.PartyKey, manufacturer: c.Manufacturer, interactions: c.Interactions})
	}
	return out
}

// same compares directory values as LDAP's case-insensitive matching rules
// do; an empty want matches anything (the parameter was not given).
func same(got, want string) bool {
	return want == "" || strings.EqualFold(got, want)
}

// searchEndpoints answers GET /Endpoint from the MHS records (§3.2).
func (s *server) searchEndpoints(rw http.ResponseWriter, r *request) error {
	q, err := parseEndpointQuery(r.URL.RawQuery, s.strict)
	if err != nil {
		return err
	}
	contentType, err := negotiate(r.Request)
	if err != nil {
		return err
	}
	return s.writeSearch(rw, r, contentType, func(s *server) ([]fhir.BundleEntry, error) {
		var entries []fhir.BundleEntry
		for _, m := range s.mhsRecords() {
			if same(m.ods, q.org) && same(m.interaction, q.interaction) && same(m.partyKey, q.partyKey) {
				ep := endpoint(m)
				e, err := s.entry("Endpoint", *ep.Id, ep)
				if err != nil {
					return nil, err
				}
				entries = append(entries, e)
			}
		}
		return entries, nil
	})
}

// searchDevices answers GET /Device from the AS records (§3.1), as the LDAP
// filter on nhsIDCode, nhsAsSvcIA and the optional party key and
// manufacturer does.
func (s *server) searchDevices(rw http.ResponseWriter, r *request) error {
	q, err := parseDeviceQuery(r.URL.RawQuery, s.strict)
	if err != nil {
		return err
	}
	contentType, err := negotiate(r.Request)
	if err != nil {
		return err
	}
	return s.writeSearch(rw, r, contentType, func(s *server) ([]fhir.BundleEntry, error) {
		var entries []fhir.BundleEntry
		for _, a := range s.asRecords() {
			hasInteraction := slices.ContainsFunc(a.interactions, func(in gpc.Interaction) bool { return same(string(in), q.interaction) })
			if same(a.ods, q.org) && hasInteraction && same(a.partyKey, q.partyKey) && same(a.manufacturer, q.manufacturer) {
				d := device(a)
				e, err := s.entry("Device", *d.Id, d)
				if err != nil {
					return nil, err
				}
				entries = append(entries, e)
			}
		}
		return entries, nil
	})
}

// searchset is a Bundle whose entry list is always written, empty or not:
// the service answers no match with "entry": [] (§3.4), which the model's
// omitempty would drop. The shallower Entry field wins over the embedded one.
// ResourceType comes first so the JSON reads in the service's order.
type searchset struct {
	ResourceType string `json:"resourceType"`
	fhir.OtherBundle
	Entry []fhir.BundleEntry `json:"entry"`
}

// searchset builds the answer: id (random, as the service's), total, a
// self link with the request URL unescaped as the service prints it, and
// the entries.
func (s *server) searchset(r *http.Request, id string, entries []fhir.BundleEntry) searchset {
	self := s.base + r.URL.Path
	if r.URL.RawQuery != "" {
		q, err := url.PathUnescape(r.URL.RawQuery)
		if err != nil {
			q = r.URL.RawQuery
		}
		self += "?" + q
	}
	if entries == nil {
		entries = []fhir.BundleEntry{}
	}
	return searchset{
		ResourceType: "Bundle",
		OtherBundle: fhir.OtherBundle{
			Id:    ptr(id),
			Type:  fhir.BundleTypeSearchset,
			Total: ptr(len(entries)),
			Link:  []fhir.BundleLink{{Relation: "self", Url: self}},
		},
		Entry: entries,
	}
}

// entry wraps a resource as a search match, at <base>/<type>/<id>.
func (s *server) entry(resourceType, id string, resource json.Marshaler) (fhir.BundleEntry, error) {
	raw, err := resource.MarshalJSON()
	if err != nil {
		return fhir.BundleEntry{}, err
	}
	return fhir.BundleEntry{
		FullUrl:  ptr(s.base + "/" + resourceType + "/" + id),
		Resource: raw,
		Search:   &fhir.BundleEntrySearch{Mode: ptr(fhir.SearchEntryModeMatch)},
	}, nil
}

// endpoint maps an MHS record as the service does (§3.4): address, FQDN,
// party key and the MHS record's own id, and the interaction extension.
// It never carries the ASID, which only the AS record (Device) holds. GP
// Connect's records have no reliability configuration, so that extension is
// absent, as in NHS's own GP Connect overlay example.
func endpoint(m mhsRecord) fhir.Endpoint {
	key := "Endpoint|" + strings.ToUpper(m.ods) + "|" + m.interaction
	var ids []fhir.Identifier
	if m.fqdn != "" {
		ids = append(ids, identifier(gpc.SystemMhsFQDN, m.fqdn))
	}
	if m.partyKey != "" {
		ids = append(ids, identifier(gpc.SystemPartyKey, m.partyKey))
	}
	ids = append(ids, identifier(gpc.SystemMHSID, world.MHSID(m.ods, gpc.Interaction(m.interaction))))
	return fhir.Endpoint{
		Id:     ptr(nameUUID(key)),
		Status: fhir.EndpointStatusActive,
		ConnectionType: fhir.Coding{
			System:  ptr(systemConnection),
			Code:    ptr("hl7-fhir-msg"),
			Display: ptr("HL7 FHIR Messaging"),
		},
		PayloadType: []fhir.CodeableConcept{{Coding: []fhir.Coding{{
			System:  ptr(systemPayloadType),
			Code:    ptr("any"),
			Display: ptr("Any"),
		}}}},
		Address:              m.address,
		ManagingOrganization: &fhir.Reference{Identifier: ptr(identifier(gpc.SystemODSCode, m.ods))},
		Identifier:           ids,
		Extension:            []fhir.Extension{interactionExtension(m.interaction)},
	}
}

// device maps an AS record (§3.4): ASID and party key, the manufacturing
// organisation, one extension per interaction on the record, and the owner.
func device(a asRecord) fhir.Device {
	ids := []fhir.Identifier{identifier(gpc.SystemASID, a.asid)}
	if a.partyKey != "" {
		ids = append(ids, identifier(gpc.SystemPartyKey, a.partyKey))
	}
	exts := []fhir.Extension{{
		Url:            extManufacturer,
		ValueReference: &fhir.Reference{Identifier: ptr(identifier(gpc.SystemODSCode, a.manufacturer))},
	}}
	for _, in := range a.interactions {
		exts = append(exts, interactionExtension(string(in)))
	}
	return fhir.Device{
		Id:         ptr(nameUUID("Device|" + strings.ToUpper(a.ods) + "|" + a.asid)),
		Identifier: ids,
		Extension:  exts,
		Owner:      &fhir.Reference{Identifier: ptr(identifier(gpc.SystemODSCode, a.ods))},
	}
}

func interactionExtension(in string) fhir.Extension {
	return fhir.Extension{
		Url:            extInteraction,
		ValueReference: &fhir.Reference{Identifier: ptr(identifier(gpc.SystemInteractionID, in))},
	}
}

func identifier(system, value string) fhir.Identifier {
	return fhir.Identifier{System: ptr(system), Value: ptr(value)}
}

func ptr[T any](v T) *T { return &v }

// namespace is the name-based UUID namespace of this mock's resource ids
// (RFC 4122's URL namespace).
var namespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// nameUUID is a version 5 UUID of name, so the same record keeps the same
// id across requests and sessions. Upper case, as the service writes them.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte("spine-sandbox/sds/" + name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// newUUID is a random version 4 UUID, upper case like the service's.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b []byte) string {
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
