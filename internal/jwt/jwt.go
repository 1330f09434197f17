// Package jwt builds and checks GP Connect's cross-organisation audit and
// provenance token: an unsecured JWT (alg "none", trailing ".") carried as
// "Authorization: Bearer <jwt>" on every request (gpconnect-1.6.md §2).
//
// The consumer calls Build for every request. The SSP and the provider call
// Validate, which applies every rule in Rules and returns all the violations
// with the HTTP status and Spine code a provider answers with (§2.4).
package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Lifetime is the only allowed exp − iat: exactly five minutes (§2.2).
const Lifetime = 300 * time.Second

// ReasonDirectCare is the reason_for_request of every Foundations and
// Appointment Management call (§2.2).
const ReasonDirectCare = "directcare"

// SystemDeviceIdentifier is the consumer-defined device identifier system
// Build uses when Identity.DeviceSystem is empty.
const SystemDeviceIdentifier = "https://consumersupplier.com/Id/device-identifier"

// header is the only JOSE header GP Connect accepts (§2.1).
const header = `{"alg":"none","typ":"JWT"}`

// Identity is who the consumer says it is in every JWT.
type Identity struct {
	Issuer string // iss, the consumer's endpoint URL

	// requesting_device (§2.2): identifier[0] system and value, model,
	// version. DeviceSystem "" means SystemDeviceIdentifier.
	DeviceSystem, DeviceID, DeviceModel, DeviceVersion string

	OrgODS, OrgName string // requesting_organization

	PractitionerID string // requesting_practitioner.id == sub

	// Practitioner identifiers (§2.2). SDSUserID "" becomes "UNK": the
	// demonstrator requires the sds-user-id identifier and accepts UNK.
	// SDSRoleProfileID "" and UserGUID "" (or UserGUIDSystem "") are
	// omitted, which providers must tolerate.
	SDSUserID, SDSRoleProfileID, UserGUIDSystem, UserGUID string

	Family string
	Given  []string
	Prefix []string
}

// Identifier is a FHIR STU3 Identifier as the claim resources use it.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// HumanName is a FHIR STU3 HumanName as requesting_practitioner uses it.
type HumanName struct {
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
}

// Device is the minimal STU3 Device of requesting_device.
type Device struct {
	ResourceType string       `json:"resourceType"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Model        string       `json:"model,omitempty"`
	Version      string       `json:"version,omitempty"`
}

// Organization is the minimal STU3 Organization of requesting_organization.
type Organization struct {
	ResourceType string       `json:"resourceType"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         string       `json:"name,omitempty"`
}

// Practitioner is the minimal STU3 Practitioner of requesting_practitioner.
type Practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         []HumanName  `json:"name,omitempty"`
}

// IdentifierValue returns the value of the first identifier with system, and
// whether there is one.
func IdentifierValue(ids []Identifier, system string) (string, bool) {
	for _, id := range ids {
		if id.System == system {
			return id.Value, true
		}
	}
	return "", false
}

// payload fixes the order of claims in a built token, as in the spec's
// example (§2.2).
type payload struct {
	Issuer                 string       `json:"iss"`
	Subject                string       `json:"sub"`
	Audience               string       `json:"aud"`
	ExpiresAt              int64        `json:"exp"`
	IssuedAt               int64        `json:"iat"`
	ReasonForRequest       string       `json:"reason_for_request"`
	RequestedScope         gpc.Scope    `json:"requested_scope"`
	RequestingDevice       Device       `json:"requesting_device"`
	RequestingOrganization Organization `json:"requesting_organization"`
	RequestingPractitioner Practitioner `json:"requesting_practitioner"`
}

// Build returns "base64url(header).base64url(payload)." with alg none,
// iat=now, exp=iat+300, reason_for_request directcare,
// requested_scope=scope and aud=aud (the SDS service root, verbatim).
// The consumer builds a new token for every request (§2.1).
//
// Build refuses to make a token that Validate would reject, so an
// incomplete Identity (no issuer, no practitioner name, ...) is an error
// here rather than a 400 from the provider.
func Build(id Identity, aud string, scope gpc.Scope, now time.Time) (string, error) {
	deviceSystem := id.DeviceSystem
	if deviceSystem == "" {
		deviceSystem = SystemDeviceIdentifier
	}
	sdsUserID := id.SDSUserID
	if sdsUserID == "" {
		sdsUserID = "UNK"
	}
	ids := []Identifier{{System: gpc.SystemSDSUserID, Value: sdsUserID}}
	if id.SDSRoleProfileID != "" {
		ids = append(ids, Identifier{System: gpc.SystemSDSRoleProfileID, Value: id.SDSRoleProfileID})
	}
	if id.UserGUIDSystem != "" && id.UserGUID != "" {
		ids = append(ids, Identifier{System: id.UserGUIDSystem, Value: id.UserGUID})
	}
	iat := now.Unix()
	p := payload{
		Issuer:           id.Issuer,
		Subject:          id.PractitionerID,
		Audience:         aud,
		ExpiresAt:        iat + int64(Lifetime/time.Second),
		IssuedAt:         iat,
		ReasonForRequest: ReasonDirectCare,
		RequestedScope:   scope,
		RequestingDevice: Device{
			ResourceType: "Device",
			Identifier:   []Identifier{{System: deviceSystem, Value: id.DeviceID}},
			Model:        id.DeviceModel,
			Version:      id.DeviceVersion,
		},
		RequestingOrganization: Organization{
			ResourceType: "Organization",
			Identifier:   []Identifier{{System: gpc.SystemODSCode, Value: id.OrgODS}},
			Name:         id.OrgName,
		},
		RequestingPractitioner: Practitioner{
			ResourceType: "Practitioner",
			ID:           id.PractitionerID,
			Identifier:   ids,
			Name:         []HumanName{{Family: id.Family, Given: id.Given, Prefix: id.Prefix}},
		},
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("jwt: encoding claims: %w", err)
	}
	token := enc(header) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
	if vs := Validate("Bearer "+token, Expect{Audience: aud, Scope: scope, Now: now, CheckAudience: true}); len(vs) > 0 {
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = v.String()
		}
		return "", fmt.Errorf("jwt: identity makes an invalid token: %s", strings.Join(msgs, "; "))
	}
	return token, nil
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Claims is a token's header and claims, typed. The three claim resources
// are kept both raw (as sent) and parsed; a parsed one is nil when its raw
// form is absent or not a JSON object of the expected shape.
type Claims struct {
	Alg string // JOSE header alg
	Typ string // JOSE header typ

	Issuer           string    `json:"iss"`
	Subject          string    `json:"sub"`
	Audience         string    `json:"aud"`
	ExpiresAt        int64     `json:"exp"`
	IssuedAt         int64     `json:"iat"`
	ReasonForRequest string    `json:"reason_for_request"`
	RequestedScope   gpc.Scope `json:"requested_scope"`

	RequestingDevice       json.RawMessage `json:"requesting_device"`
	RequestingOrganization json.RawMessage `json:"requesting_organization"`
	RequestingPractitioner json.RawMessage `json:"requesting_practitioner"`
	// RequestedRecord is the DSTU2-era claim providers reject (§2.2 note).
	RequestedRecord json.RawMessage `json:"requested_record,omitempty"`

	Device       *Device       `json:"-"`
	Organization *Organization `json:"-"`
	Practitioner *Practitioner `json:"-"`
}

// IssuedTime returns iat as a time.
func (c *Claims) IssuedTime() time.Time { return time.Unix(c.IssuedAt, 0).UTC() }

// ExpiryTime returns exp as a time.
func (c *Claims) ExpiryTime() time.Time { return time.Unix(c.ExpiresAt, 0).UTC() }

// ErrMalformed is wrapped by every Parse error.
var ErrMalformed = errors.New("jwt: malformed token")

// Parse decodes token (without the "Bearer " prefix) structurally: two
// base64url JSON objects and a third part, claims of the right JSON types.
// It applies none of the rules; use Validate for that. A claim resource that
// does not fit its type is left nil in the parsed field, raw in the other.
func Parse(token string) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("%w: want header.payload.signature", ErrMalformed)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url: %v", ErrMalformed, err)
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url: %v", ErrMalformed, err)
	}
	var h struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	c := &Claims{Alg: h.Alg, Typ: h.Typ}
	if err := json.Unmarshal(pb, c); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	c.Device = parseResource[Device](c.RequestingDevice)
	c.Organization = parseResource[Organization](c.RequestingOrganization)
	c.Practitioner = parseResource[Practitioner](c.RequestingPractitioner)
	return c, nil
}

func parseResource[T any](raw json.RawMessage) *T {
	if kind(jsontext.Value(raw)) != kindObject {
		return nil
	}
	v := new(T)
	if json.Unmarshal(raw, v) != nil {
		return nil
	}
	return v
}
