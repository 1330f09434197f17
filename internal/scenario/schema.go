package scenario

import "github.com/spine-sandbox/spine-sandbox/internal/gpc"

// The schema of a scenario file, defined once. The yaml tags are the keys a
// file may use; `scenario:"required"` marks keys that must be present. The
// decoder (decode.go) walks the YAML nodes against these types, so every
// unknown key, wrong type and bad value is reported with its line and
// column. docs/scenario-format.md documents the same schema for authors.

// Scenario is one loaded, validated scenario file.
type Scenario struct {
	At At `yaml:"-"`
	// Name identifies the scenario in reports.
	Name string `yaml:"name" scenario:"required"`
	// Description is one sentence: what the file proves.
	Description string `yaml:"description"`
	// File is the path the scenario was loaded from (not a YAML key).
	File string `yaml:"-"`
	// limits are what the scenario was loaded with; World holds to them.
	limits Limits
	// warnings are what Warnings reports (suggest.go).
	warnings []Problem
	// Now, when set, pins the session's clock to this absolute time.
	Now *When `yaml:"now"`
	// Lenient makes the SSP record failed checks and forward anyway.
	Lenient bool `yaml:"lenient"`
	// SSPTimeout is how long the session's SSP waits for the provider
	// before it answers 504 (Spine Core's downstream timeout); zero
	// keeps the SSP's default.
	SSPTimeout Duration `yaml:"ssp_timeout"`
	// Extends names a world to start from: "builtin" takes the consumer,
	// patients and practices sections the file leaves out from Default().
	Extends string `yaml:"extends"`

	Consumer  *Consumer  `yaml:"consumer"`
	Patients  []Patient  `yaml:"patients"`
	Practices []Practice `yaml:"practices"`
	Faults    []Fault    `yaml:"faults"`
	Run       *Run       `yaml:"run"`
	Expect    *Expect    `yaml:"expect"`
}

// Consumer is the consumer's accredited system as SDS records it.
type Consumer struct {
	At           At           `yaml:"-"`
	ASID         ASID         `yaml:"asid" scenario:"required"`
	ODS          ODSCode      `yaml:"ods" scenario:"required"`
	Name         string       `yaml:"name"`
	PartyKey     string       `yaml:"party_key"`
	Manufacturer ODSCode      `yaml:"manufacturer"`
	Interactions Interactions `yaml:"interactions"`
	// FQDN is the system's registered FQDN, which its TLS client
	// certificate must carry (serve --tls); default {ods}.consumer.spine-sandbox.invalid.
	FQDN string `yaml:"fqdn"`
}

// Name is a person's name.
type Name struct {
	At     At       `yaml:"-"`
	Prefix []string `yaml:"prefix"`
	Given  []string `yaml:"given"`
	Family string   `yaml:"family" scenario:"required"`
}

// Address is a postal address.
type Address struct {
	At         At       `yaml:"-"`
	Use        Enum     `yaml:"use" enum:"home,temp,work,old,billing"`
	Lines      []string `yaml:"lines"`
	City       string   `yaml:"city"`
	District   string   `yaml:"district"`
	PostalCode string   `yaml:"postal_code"`
}

// Telecom is a phone number or email address.
type Telecom struct {
	At     At     `yaml:"-"`
	System Enum   `yaml:"system" scenario:"required" enum:"phone,email,fax,url,sms,pager,other"`
	Value  string `yaml:"value" scenario:"required"`
	Use    Enum   `yaml:"use" enum:"home,work,mobile,temp,old"`
}

// Patient is a PDS record. With NHSRecord the patient is the record NHS's
// own PDS sandbox holds for the number (nhsrecord.go): PDS serves it element
// for element, and the other keys are filled in from it, so they may not be
// given beside it.
type Patient struct {
	At           At        `yaml:"-"`
	NHSNumber    NHSNumber `yaml:"nhs_number" scenario:"required"`
	Name         *Name     `yaml:"name"`
	BirthDate    Date      `yaml:"birth_date"`
	Gender       Enum      `yaml:"gender" enum:"male,female,other,unknown"`
	Practice     ODSCode   `yaml:"practice"`
	Restricted   bool      `yaml:"restricted"`
	Deceased     Date      `yaml:"deceased"`
	SupersededBy NHSNumber `yaml:"superseded_by"`
	Invalidated  bool      `yaml:"invalidated"`
	Address      []Address `yaml:"address"`
	Telecom      []Telecom `yaml:"telecom"`
	Version      int       `yaml:"version"`
	NHSRecord    bool      `yaml:"nhs_record"`
	resource     []byte    // NHS's record when NHSRecord is set
	search       *Patient  // NHS's search record, where it differs
}

// Practice is a GP practice: its SDS registration and its provider system.
type Practice struct {
	At           At           `yaml:"-"`
	ODS          ODSCode      `yaml:"ods" scenario:"required"`
	Name         string       `yaml:"name" scenario:"required"`
	Address      *Address     `yaml:"address"`
	Telecom      []Telecom    `yaml:"telecom"`
	ASID         ASID         `yaml:"asid" scenario:"required"`
	PartyKey     string       `yaml:"party_key" scenario:"required"`
	Endpoint     string       `yaml:"endpoint"`
	Interactions Interactions `yaml:"interactions"`
	// RefuseSenders are ASIDs the practice has no sharing agreement with:
	// the SSP's FOT check refuses their requests (gpconnect-1.6.md §1.4).
	RefuseSenders  []ASID         `yaml:"refuse_senders"`
	OrganizationID string         `yaml:"organization_id"`
	Records        []Record       `yaml:"records"`
	Locations      []Location     `yaml:"locations"`
	Practitioners  []Practitioner `yaml:"practitioners"`
	Schedules      []Schedule     `yaml:"schedules"`
	Slots          []Slot         `yaml:"slots"`
	Generate       []Generator    `yaml:"generate"`
	Appointments   []Appointment  `yaml:"appointments"`
	// FQDN is the provider system's registered FQDN (its certificate's
	// CN); default {ods}.provider.spine-sandbox.invalid.
	FQDN string `yaml:"fqdn"`
}

// Record is the provider's local record of a patient. Its NHS number need
// not be a PDS patient: a local record PDS does not know is legal and
// models an unverifiable record.
type Record struct {
	At               At            `yaml:"-"`
	ID               string        `yaml:"id" scenario:"required"`
	NHSNumber        NHSNumber     `yaml:"nhs_number" scenario:"required"`
	State            Enum          `yaml:"state" enum:"active,inactive,deceased"`
	RegistrationType Enum          `yaml:"registration_type" enum:"R,E,IN,T,P,O,S"`
	Registered       *When         `yaml:"registered"`
	Unverified       bool          `yaml:"unverified"`
	PreferredBranch  string        `yaml:"preferred_branch"`
	Demographics     *Demographics `yaml:"demographics"`
}

// Demographics override what the provider holds locally for a record;
// when absent they are taken from PDS.
type Demographics struct {
	At        At        `yaml:"-"`
	Name      *Name     `yaml:"name"`
	BirthDate Date      `yaml:"birth_date"`
	Gender    Enum      `yaml:"gender" enum:"male,female,other,unknown"`
	Address   []Address `yaml:"address"`
	Telecom   []Telecom `yaml:"telecom"`
}

// Location is a surgery (main or branch) of a practice.
type Location struct {
	At       At        `yaml:"-"`
	ID       string    `yaml:"id" scenario:"required"`
	Name     string    `yaml:"name" scenario:"required"`
	SiteCode ODSCode   `yaml:"site_code"`
	Address  *Address  `yaml:"address"`
	Telecom  []Telecom `yaml:"telecom"`
}

// Practitioner is a clinician at a practice.
type Practitioner struct {
	At          At     `yaml:"-"`
	ID          string `yaml:"id" scenario:"required"`
	SDSUserID   string `yaml:"sds_user_id"`
	Name        *Name  `yaml:"name" scenario:"required"`
	Gender      Enum   `yaml:"gender" enum:"male,female,other,unknown"`
	RoleCode    string `yaml:"role_code"`
	RoleDisplay string `yaml:"role_display"`
}

// Schedule groups slots at one location, optionally for one practitioner.
type Schedule struct {
	At              At     `yaml:"-"`
	ID              string `yaml:"id" scenario:"required"`
	Location        string `yaml:"location" scenario:"required"`
	Practitioner    string `yaml:"practitioner"`
	ServiceCategory string `yaml:"service_category"`
}

// Slot is one bookable period, listed one by one.
type Slot struct {
	At       At        `yaml:"-"`
	ID       string    `yaml:"id" scenario:"required"`
	Schedule string    `yaml:"schedule" scenario:"required"`
	Start    When      `yaml:"start" scenario:"required"`
	End      *When     `yaml:"end"`
	Length   Duration  `yaml:"length"`
	Status   Enum      `yaml:"status" enum:"free,busy"`
	Channel  Channel   `yaml:"channel"`
	Type     string    `yaml:"type"`
	OrgTypes []Enum    `yaml:"org_types" enum:"gp-practice,urgent-care"`
	ODSCodes []ODSCode `yaml:"ods_codes"`
}

// Generator makes a run of free slots: for each of Days days from Start
// (weekdays only if asked), at each time of day in Times, or from From
// until Until every Every.
type Generator struct {
	At           At          `yaml:"-"`
	Schedule     string      `yaml:"schedule" scenario:"required"`
	Start        *When       `yaml:"start"` // first day; default +1d
	Days         int         `yaml:"days" scenario:"required"`
	WeekdaysOnly bool        `yaml:"weekdays_only"`
	Times        []TimeOfDay `yaml:"times"`
	From         *TimeOfDay  `yaml:"from"`
	Until        *TimeOfDay  `yaml:"until"`
	Every        Duration    `yaml:"every"`
	Length       Duration    `yaml:"length"` // default: Every
	Channel      Channel     `yaml:"channel"`
	Type         string      `yaml:"type"`
	Status       Enum        `yaml:"status" enum:"free,busy"`
	OrgTypes     []Enum      `yaml:"org_types" enum:"gp-practice,urgent-care"`
	ODSCodes     []ODSCode   `yaml:"ods_codes"`
}

// Appointment is an appointment that exists before the run starts.
type Appointment struct {
	At                 At       `yaml:"-"`
	ID                 string   `yaml:"id" scenario:"required"`
	Patient            string   `yaml:"patient" scenario:"required"` // Record id
	Slots              []string `yaml:"slots" scenario:"required"`
	Status             Enum     `yaml:"status" enum:"booked,cancelled"`
	Description        string   `yaml:"description"`
	Comment            string   `yaml:"comment"`
	Created            *When    `yaml:"created"`
	CancellationReason string   `yaml:"cancellation_reason"`
}

// Fault is a failure injected at one hop, for the first Times matching
// requests (every one when Times is 0).
type Fault struct {
	At  At  `yaml:"-"`
	Hop Hop `yaml:"hop" scenario:"required"`
	// Interaction narrows the fault: for pds "retrieve" or "search", for
	// sds "endpoint" or "device", for ssp and provider a GP Connect
	// interaction name or URN. Empty matches every request to the hop.
	Interaction string `yaml:"interaction"`
	// Target is the resolved GP Connect interaction for ssp/provider
	// faults; "" otherwise (not a YAML key).
	Target    gpc.Interaction `yaml:"-"`
	Status    int             `yaml:"status"`
	Body      *Body           `yaml:"body"`
	SpineCode string          `yaml:"spine_code"`
	Delay     Duration        `yaml:"delay"`
	Drop      bool            `yaml:"drop"`
	Times     int             `yaml:"times"`
}

// Run is what the built-in consumer does.
type Run struct {
	At        At        `yaml:"-"`
	Consumer  Enum      `yaml:"consumer" enum:"builtin,external"`
	Action    Enum      `yaml:"action" enum:"book,slots,appointments,cancel,amend"`
	NHSNumber NHSNumber `yaml:"nhs_number"`
	// ODS is the target practice when booking elsewhere than the
	// registered practice.
	ODS                ODSCode  `yaml:"ods"`
	From               *When    `yaml:"from"`
	To                 *When    `yaml:"to"`
	SearchWindows      int      `yaml:"search_windows"`
	Prefer             *Prefer  `yaml:"prefer"`
	BookRetries        int      `yaml:"book_retries"`
	Repeat             int      `yaml:"repeat"`
	TakeSlotBeforeBook bool     `yaml:"take_slot_before_book"`
	Timeout            Duration `yaml:"timeout"`
	// Appointment names an appointment the world already holds for cancel
	// or amend to act on; without it they book one first.
	Appointment string `yaml:"appointment"`
	// Description and Comment go on the booked appointment, or replace
	// the amended one's (gpconnect-1.6.md §4.4: the only fields amend may
	// change).
	Description string `yaml:"description"`
	Comment     string `yaml:"comment"`
	// Tamper lists edits the runner makes to the consumer's outgoing
	// requests, so a scenario can prove what PDS, SDS, the SSP or the
	// provider answer to a faulty request.
	Tamper []Tamper `yaml:"tamper"`

	// SDS is how the built-in consumer asks SDS: "fhir" (the FHIR API,
	// the default) or "ldap" (gpconnect-1.6.md §1.2a's LDAP queries).
	SDS Enum `yaml:"sds" enum:"fhir,ldap"`

	// TLS chooses the client certificate the built-in consumer presents
	// over mutual TLS (gpconnect-1.6.md §1.4). A scenario with it runs only
	// under `spine-sandbox run --tls`, and is reported skipped without.
	TLS *RunTLS `yaml:"tls"`
}

// RunTLS is the built-in consumer's TLS under run --tls.
type RunTLS struct {
	At At `yaml:"-"`
	// Client is the certificate it presents: consumer (its own, the
	// default), none, or one of the PKI's bad ones (spine-sandbox certs).
	Client Enum `yaml:"client" enum:"consumer,none,expired,not-yet-valid,wrong-ca,wrong-cn,revoked"`
}

// Tamper is one edit of the built-in consumer's requests to one hop, for
// the first Times matching requests (every one when Times is 0). Edits
// apply in the order of the fields below (tamper.go documents each).
type Tamper struct {
	At At `yaml:"-"`
	// Hop is where the request goes: pds, sds or ssp (the consumer never
	// calls a provider directly).
	Hop Hop `yaml:"hop" scenario:"required"`
	// Interaction narrows the tamper as it narrows a fault: retrieve or
	// search for pds, endpoint or device for sds, a GP Connect interaction
	// name or URN for ssp (matched on the Ssp-InteractionID sent).
	Interaction string `yaml:"interaction"`
	// InteractionID is the resolved GP Connect interaction of an ssp
	// tamper; "" otherwise (not a YAML key).
	InteractionID gpc.Interaction `yaml:"-"`
	Times         int             `yaml:"times"`
	// ReuseTraceID sends the Ssp-TraceID of the previous SSP request
	// instead of the fresh one (gpconnect-1.6.md §1.3).
	ReuseTraceID bool       `yaml:"reuse_trace_id"`
	Headers      *Edits     `yaml:"headers"`
	ContentType  string     `yaml:"content_type"`
	JWT          *JWTEdits  `yaml:"jwt"`
	Method       string     `yaml:"method"`
	ServiceRoot  string     `yaml:"target"` // ssp only: replaces the proxied service root
	Path         string     `yaml:"path"`   // replaces the FHIR path below the root or base
	Query        *Edits     `yaml:"query"`
	Body         *JSONEdits `yaml:"body"`
	// Format "xml" (ssp only) sends the request in FHIR XML, after every
	// other edit: Accept application/fhir+xml, a JSON body converted
	// with Content-Type application/fhir+xml. The provider's XML answer
	// is converted back to JSON for the consumer (the journal keeps the
	// XML).
	Format string `yaml:"format"`
}

// Edits set and delete named values: query parameters or headers. Set
// replaces every value of a name (a list sends the name repeatedly).
type Edits struct {
	At  At       `yaml:"-"`
	Set Values   `yaml:"set"`
	Del []string `yaml:"del"`
}

// JWTEdits change the audit JWT in the Authorization header
// (gpconnect-1.6.md §2): claims set and deleted (a name, or a JSON
// Pointer such as /requesting_practitioner/id), header fields set, and
// the signature replaced. The parts are re-encoded as base64url without
// padding.
type JWTEdits struct {
	At        At         `yaml:"-"`
	Set       JSONValues `yaml:"set"`
	Del       []string   `yaml:"del"`
	Header    JSONValues `yaml:"header"`
	Signature *string    `yaml:"signature"`
}

// JSONEdits change a JSON body by JSON Pointer (RFC 6901): set first, in
// the order written, then del.
type JSONEdits struct {
	At  At         `yaml:"-"`
	Set JSONValues `yaml:"set"`
	Del []string   `yaml:"del"`
}

// Prefer says which slot the consumer picks: the first one, or the one
// starting at Time; optionally only with this channel, practitioner or
// location.
type Prefer struct {
	At           At      `yaml:"-"`
	First        bool    `yaml:"first"`
	Time         *When   `yaml:"time"`
	Channel      Channel `yaml:"channel"`
	Practitioner string  `yaml:"practitioner"`
	Location     string  `yaml:"location"`
}

// Expect is what must be seen after the run.
type Expect struct {
	At       At        `yaml:"-"`
	Outcome  *Outcome  `yaml:"outcome"`
	Sequence []Step    `yaml:"sequence"`
	Requests []Request `yaml:"requests"`
	Checks   *Checks   `yaml:"checks"`
	// Slots is how many free slots the slots action must find, and
	// Appointments how many the appointments action must list.
	Slots        *int `yaml:"slots"`
	Appointments *int `yaml:"appointments"`
}

// Request compares a request the consumer sent with a fixture.
type Request struct {
	At          At          `yaml:"-"`
	Interaction Interaction `yaml:"interaction" scenario:"required"`
	Body        FixturePath `yaml:"body" scenario:"required"`
	Match       Enum        `yaml:"match" enum:"exact,superset"`
	Ignore      []string    `yaml:"ignore"`
}

// Checks names conformance checks that must pass and that must fire.
type Checks struct {
	At   At       `yaml:"-"`
	Pass []string `yaml:"pass"`
	Fire []string `yaml:"fire"`
}
