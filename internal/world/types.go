package world

import (
	"encoding/json"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Data is everything one scenario says about the world, before it is
// loaded. The scenario package builds it; New turns it into a live World.
type Data struct {
	Consumer  ConsumerSystem
	Patients  []Patient
	Practices []Practice
}

// ConsumerSystem is the consumer's accredited system as SDS records it.
type ConsumerSystem struct {
	ASID     string // 12 digits
	ODS      string // the consumer organisation's ODS code
	Name     string // organisation name
	PartyKey string // optional
	// Manufacturer is the supplier's ODS code
	// (Extension-SDS-ManufacturingOrganisation); defaults to ODS.
	Manufacturer string
	// Interactions are those on the consumer's AS record: what the SSP lets
	// it send.
	Interactions []gpc.Interaction
	// FQDN is the consumer system's registered FQDN: its TLS client
	// certificate's CN/SAN must match it (gpconnect-1.6.md §1.4); ""
	// means ConsumerFQDN(ODS) (fqdn.go).
	FQDN string
}

// Name is a person's name.
type Name struct {
	Prefix []string
	Given  []string
	Family string
}

// Address is a postal address.
type Address struct {
	Use        string // home, temp, work
	Lines      []string
	City       string
	District   string
	PostalCode string
}

// Telecom is a phone number or email address.
type Telecom struct {
	System string // phone, email
	Value  string
	Use    string // home, work, mobile, temp
}

// Patient is a PDS record.
type Patient struct {
	NHSNumber string
	Name      *Name  // nil for a minimal record
	BirthDate string // yyyy-mm-dd
	Gender    string // male, female, other, unknown
	// Practice is the ODS code of the registered GP practice; "" when none.
	Practice   string
	Restricted bool   // meta.security R: address, telecom, contact and GP withheld
	Deceased   string // yyyy-mm-dd; "" when alive
	// SupersededBy is the NHS number of the retained record when this one
	// was merged into it; retrieval returns that record.
	SupersededBy string
	Invalidated  bool // retrieval answers 404 INVALIDATED_RESOURCE
	Address      []Address
	Telecom      []Telecom
	VersionID    int // meta.versionId; ETag W/"n"
	// Resource, when set, is the patient's PDS record verbatim (one of NHS's
	// own sandbox records): PDS serves it, with id and meta.versionId from
	// the fields above, instead of building one from them. The fields hold
	// the same facts, for searches and the provider.
	Resource json.RawMessage
	// Search, when set, is how PDS's searches see and answer this patient,
	// where NHS's sandbox's search data disagrees with its retrieve record
	// (internal/scenario/nhsrecords); retrieval uses the fields above.
	Search *Patient
}

// Practice is a GP practice: its SDS registration and the GP Connect
// provider system that holds its records.
type Practice struct {
	ODS     string
	Name    string
	Address *Address
	Telecom []Telecom
	// OrganizationID is the provider's logical id for its Organization.
	OrganizationID string
	ProviderASID   string
	PartyKey       string
	// Endpoint, when set, is the service root registered in SDS, verbatim.
	// When empty the sandbox's own provider serves the practice at
	// {base}/provider/{ODS}/STU3/1/gpconnect.
	Endpoint string
	// Interactions are registered on both the practice's MHS and AS records.
	Interactions []gpc.Interaction
	// FQDN is the provider system's registered FQDN (its certificate's
	// CN); "" means ProviderFQDN(ODS) (fqdn.go).
	FQDN string
	// RefusedSenders are the ASIDs the practice has no data-sharing
	// agreement with: Spine's FOT check refuses their requests to it
	// (gpconnect-1.6.md §1.4). Every other sender may send.
	RefusedSenders []string
	Records        []Record
	Locations      []Location
	Practitioners  []Practitioner
	Schedules      []Schedule
	Slots          []Slot
	Appointments   []Appointment
}

// Record states at the provider.
const (
	Active   = "active"
	Inactive = "inactive"
	Dead     = "deceased"
)

// Record is the provider's local patient record.
type Record struct {
	ID        string // logical id at the practice
	NHSNumber string
	State     string // Active, Inactive or Dead
	// RegistrationType is the CareConnect-RegistrationType-1 code: R
	// (regular), T (temporary), ...
	RegistrationType  string
	RegistrationStart time.Time
	// Unverified marks a record whose NHS number was never traced; the
	// provider verifies it against PDS before returning it.
	Unverified      bool
	PreferredBranch string // Location id
	// Demographics held locally. When nil they are taken from PDS.
	Name      *Name
	BirthDate string
	Gender    string
	Address   []Address
	Telecom   []Telecom
	VersionID int
}

// Location is a surgery (main or branch) of a practice.
type Location struct {
	ID       string
	Name     string
	SiteCode string // ODS site code, optional
	Address  *Address
	Telecom  []Telecom
}

// Practitioner is a clinician at a practice.
type Practitioner struct {
	ID        string
	SDSUserID string
	Name      Name
	Gender    string
	// Role is the SDS job role (CareConnect-SDSJobRoleName-1), e.g. R0260.
	RoleCode    string
	RoleDisplay string
}

// Schedule groups slots at one location, optionally for one practitioner.
type Schedule struct {
	ID           string
	Location     string // Location id
	Practitioner string // Practitioner id; "" when none
	// ServiceCategory is the schedule (session) type shown to patients.
	ServiceCategory string
}

// Slot statuses.
const (
	Free = "free"
	Busy = "busy"
)

// Slot is one bookable period in a schedule.
type Slot struct {
	ID              string
	Schedule        string // Schedule id
	Start, End      time.Time
	Status          string // Free or Busy
	DeliveryChannel string // In-person, Telephone, Video
	ServiceType     string // slot type text
	// OrgTypes and ODSCodes restrict who may see and book the slot
	// (appointments_provider_sys_slot_availability.md); empty means anyone.
	OrgTypes []string
	ODSCodes []string
}

// Appointment statuses.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
)

// Participant is one Appointment participant.
type Participant struct {
	Reference string // relative: Patient/1, Location/2, Practitioner/3
	Status    string // accepted, ...
}

// Appointment is a booked (or cancelled) appointment at a practice.
type Appointment struct {
	ID          string
	VersionID   int
	Status      string // Booked or Cancelled
	Patient     string // patient Record id
	Slots       []string
	Start, End  time.Time
	Created     time.Time
	Description string
	Comment     string
	// Participants as sent by the consumer.
	Participants []Participant
	// BookingOrganization is the contained Organization as sent.
	BookingOrganization json.RawMessage
	CancellationReason  string
	Updated             time.Time
}
