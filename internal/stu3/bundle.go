package stu3

import (
	"encoding/json"
	"fmt"
)

// Bundle is a FHIR Bundle; GP Connect answers every search and the register
// operation with a searchset (§3.2, §3.3, §4.1). Entries keep their resource
// raw: decode one with DecodeResource or Entry.Decode.
type Bundle struct {
	ResourceType TypeName[Bundle] `json:"resourceType"`
	ID           string           `json:"id,omitempty"`
	Meta         *Meta            `json:"meta,omitempty"`
	Type         string           `json:"type,omitempty"`
	Total        *int             `json:"total,omitempty"`
	Link         []BundleLink     `json:"link,omitempty"`
	Entry        []BundleEntry    `json:"entry,omitempty"`
}

// BundleLink is a Bundle.link.
type BundleLink struct {
	Relation string `json:"relation,omitempty"`
	URL      string `json:"url,omitempty"`
}

// BundleEntry is one Bundle.entry.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *BundleSearch   `json:"search,omitempty"`

	// encoded is Resource as Add encoded it (compact, valid JSON), so
	// Marshal may copy it as it is (encode.go). Setting Resource to other
	// bytes makes the two differ, and Marshal checks those as
	// encoding/json would.
	encoded json.RawMessage
}

// BundleSearch is Bundle.entry.search: why the entry is in a searchset.
type BundleSearch struct {
	Mode string `json:"mode,omitempty"` // match, include, outcome
}

// NewSearchset returns an empty searchset Bundle with the
// GPConnect-Searchset-Bundle-1 profile when profile is set.
func NewSearchset(profile string) *Bundle {
	b := &Bundle{ResourceType: "Bundle", Type: "searchset"}
	if profile != "" {
		b.Meta = &Meta{Profile: []string{profile}}
	}
	return b
}

// Add appends resource (any value that encodes as a FHIR resource) as an
// entry with fullURL and search mode ("" for none).
func (b *Bundle) Add(fullURL string, resource any, mode string) error {
	raw, err := json.Marshal(resource)
	if err != nil {
		return fmt.Errorf("stu3: encoding bundle entry: %w", err)
	}
	e := BundleEntry{FullURL: fullURL, Resource: raw, encoded: raw}
	if mode != "" {
		e.Search = &BundleSearch{Mode: mode}
	}
	b.Entry = append(b.Entry, e)
	return nil
}

// Decode decodes the entry's resource with DecodeResource.
func (e BundleEntry) Decode() (resourceType string, v any, err error) {
	return DecodeResource(e.Resource)
}

// Resources decodes every entry's resource in order.
func (b *Bundle) Resources() ([]any, error) {
	out := make([]any, 0, len(b.Entry))
	for i, e := range b.Entry {
		_, v, err := e.Decode()
		if err != nil {
			return nil, fmt.Errorf("stu3: entry[%d]: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Parameters is the body of an operation; for $gpc.registerpatient it has
// exactly one parameter "registerPatient" holding a Patient (§3.3).
type Parameters struct {
	ResourceType TypeName[Parameters] `json:"resourceType"`
	ID           string               `json:"id,omitempty"`
	Meta         *Meta                `json:"meta,omitempty"`
	Parameter    []Parameter          `json:"parameter,omitempty"`
}

// Parameter is one Parameters.parameter.
type Parameter struct {
	Name            string          `json:"name"`
	ValueString     string          `json:"valueString,omitempty"`
	ValueCode       string          `json:"valueCode,omitempty"`
	ValueBoolean    *bool           `json:"valueBoolean,omitempty"`
	ValueIdentifier *Identifier     `json:"valueIdentifier,omitempty"`
	ValuePeriod     *Period         `json:"valuePeriod,omitempty"`
	Resource        json.RawMessage `json:"resource,omitempty"`
	Part            []Parameter     `json:"part,omitempty"`
}

// Named returns the parameters called name (case-sensitive, §3.3).
func (r *Parameters) Named(name string) []Parameter {
	var out []Parameter
	for _, p := range r.Parameter {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// CapabilityStatement is the provider's capability statement (§3.1), as far
// as GP Connect uses it.
type CapabilityStatement struct {
	ResourceType   TypeName[CapabilityStatement] `json:"resourceType"`
	ID             string                        `json:"id,omitempty"`
	Meta           *Meta                         `json:"meta,omitempty"`
	URL            string                        `json:"url,omitempty"`
	Version        string                        `json:"version,omitempty"`
	Name           string                        `json:"name,omitempty"`
	Status         string                        `json:"status,omitempty"`
	Date           string                        `json:"date,omitempty"`
	Publisher      string                        `json:"publisher,omitempty"`
	Contact        []ContactDetail               `json:"contact,omitempty"`
	Description    string                        `json:"description,omitempty"`
	Copyright      string                        `json:"copyright,omitempty"`
	Kind           string                        `json:"kind,omitempty"`
	Software       *Software                     `json:"software,omitempty"`
	Implementation *Implementation               `json:"implementation,omitempty"`
	FHIRVersion    string                        `json:"fhirVersion,omitempty"`
	AcceptUnknown  string                        `json:"acceptUnknown,omitempty"`
	Format         []string                      `json:"format,omitempty"`
	Profile        []Reference                   `json:"profile,omitempty"`
	Rest           []CapabilityRest              `json:"rest,omitempty"`
}

// ContactDetail is a FHIR ContactDetail.
type ContactDetail struct {
	Name    string         `json:"name,omitempty"`
	Telecom []ContactPoint `json:"telecom,omitempty"`
}

// Software is CapabilityStatement.software.
type Software struct {
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	ReleaseDate string `json:"releaseDate,omitempty"`
}

// Implementation is CapabilityStatement.implementation.
type Implementation struct {
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
}

// CapabilityRest is one CapabilityStatement.rest.
type CapabilityRest struct {
	Mode      string                `json:"mode,omitempty"`
	Security  *CapabilitySecurity   `json:"security,omitempty"`
	Resource  []CapabilityResource  `json:"resource,omitempty"`
	Operation []CapabilityOperation `json:"operation,omitempty"`
}

// CapabilitySecurity is CapabilityStatement.rest.security.
type CapabilitySecurity struct {
	CORS *bool `json:"cors,omitempty"`
}

// CapabilityResource is what the server does with one resource type.
type CapabilityResource struct {
	Type          string                  `json:"type"`
	Profile       *Reference              `json:"profile,omitempty"`
	Interaction   []CapabilityInteraction `json:"interaction,omitempty"`
	UpdateCreate  *bool                   `json:"updateCreate,omitempty"`
	SearchInclude []string                `json:"searchInclude,omitempty"`
	SearchParam   []CapabilitySearchParam `json:"searchParam,omitempty"`
}

// CapabilityInteraction is one supported interaction code (read,
// search-type, create, update, ...).
type CapabilityInteraction struct {
	Code          string `json:"code"`
	Documentation string `json:"documentation,omitempty"`
}

// CapabilitySearchParam is one supported search parameter.
type CapabilitySearchParam struct {
	Name          string `json:"name"`
	Definition    string `json:"definition,omitempty"`
	Type          string `json:"type,omitempty"`
	Documentation string `json:"documentation,omitempty"`
}

// CapabilityOperation is one supported operation.
type CapabilityOperation struct {
	Name       string    `json:"name"`
	Definition Reference `json:"definition"`
}

// Resource finds the rest[0] entry for type t, or nil.
func (r *CapabilityStatement) Resource(t string) *CapabilityResource {
	for i := range r.Rest {
		for j := range r.Rest[i].Resource {
			if r.Rest[i].Resource[j].Type == t {
				return &r.Rest[i].Resource[j]
			}
		}
	}
	return nil
}
