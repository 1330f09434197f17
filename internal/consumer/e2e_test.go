package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

// End-to-end tests: the consumer against the whole in-process sandbox
// (sandboxtest: routing, sessions, the SSP forwarding to the provider,
// scenario faults), asserting the exact hops it makes and, where it adds
// something, the hops the sandbox recorded in its journal.

// recorder collects the hops the consumer reports, as "step service METHOD
// status", in order.
type recorder struct {
	mu   sync.Mutex
	hops []consumer.Hop
	// on, if set, runs synchronously on every hop (to act between steps).
	on func(consumer.Hop)
}

func (r *recorder) observe(h consumer.Hop) {
	r.mu.Lock()
	r.hops = append(r.hops, h)
	on := r.on
	r.mu.Unlock()
	if on != nil {
		on(h)
	}
}

func (r *recorder) lines(from int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, h := range r.hops[from:] {
		out = append(out, fmt.Sprintf("%s %s %s %d", h.Step, h.Service, h.Method, h.Status))
	}
	return out
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hops)
}

func identity() jwt.Identity {
	return jwt.Identity{Issuer: "https://gpc-consumer.test/", DeviceID: "e2e", DeviceModel: "consumer e2e", DeviceVersion: "1",
		OrgODS: "A1001", OrgName: "Sandbox Consumer Practice", PractitionerID: "1", Family: "Sandbox", Given: []string{"Sam"}, Prefix: []string{"Dr"}}
}

func start(t *testing.T, scenario string, timeout time.Duration) (*consumer.Session, *recorder, *sandboxtest.Sandbox) {
	t.Helper()
	return startWith(t, sandbox.Config{}, scenario, timeout)
}

// startWith is start on a sandbox configured with cfg.
func startWith(t *testing.T, cfg sandbox.Config, scenario string, timeout time.Duration) (*consumer.Session, *recorder, *sandboxtest.Sandbox) {
	t.Helper()
	sb := sandboxtest.StartWith(t, cfg, scenario)
	rec := &recorder{}
	c, err := consumer.New(consumer.Config{PDS: sb.PDS, SDS: sb.SDS, SSP: sb.SSP, ASID: "200000000115", Identity: identity(),
		OrgTelecom: "0300 000 0001", Timeout: timeout, Backoff: 5 * time.Millisecond, Observer: rec.observe})
	assert.NilError(t, err)
	return c.NewSession(), rec, sb
}

// journalLines returns the hops the sandbox recorded, as "step name status", in
// the order they completed: a provider leg (3b, 4b, ...) completes before
// the SSP call (3a, 4a, ...) that carried it.
func journalLines(sb *sandboxtest.Sandbox) []string {
	return journalOf(sb, "")
}

// journalOf is journalLines restricted to the hops whose name ends in suffix.
func journalOf(sb *sandboxtest.Sandbox, suffix string) []string {
	var out []string
	for _, h := range sb.Hops() {
		if strings.HasSuffix(h.Name, suffix) {
			out = append(out, fmt.Sprintf("%s %s %d", h.Step, h.Name, h.Status))
		}
	}
	return out
}

// sdsLookups is what the sandbox records for one SDS lookup (2a, 2c).
var sdsLookups = []string{"2a sds.endpoint 200", "2c sds.device 200"}

// viaSSP is what the sandbox records for one SSP call it forwarded: the
// SSP→provider leg (step nb) completes before the consumer→SSP call (na).
func viaSSP(n, name string, status int) []string {
	return []string{fmt.Sprintf("%sb provider.%s %d", n, name, status), fmt.Sprintf("%sa ssp.%s %d", n, name, status)}
}

// Each SSP interaction is looked up on SDS (endpoint, device) before its
// first call: service roots are per interaction.
func lookups(n int) []string {
	var out []string
	for range n {
		out = append(out, "2a sds GET 200", "2c sds GET 200")
	}
	return out
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(s string) []string { return []string{s} }

func TestE2EHappyPath(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, "", 5*time.Second)
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b.ODS, "A20047", "registered practice")
	assert.Equal(t, b.Patient.ID, "1", "patient id at A20047")
	assert.Equal(t, b.Appointment.Resource.Status, "booked", "status")
	assert.Equal(t, b.Appointment.Resource.Slot[0].Reference, "Slot/"+b.Slot.ID, "slot")
	want := join(one("1a pds GET 200"),
		lookups(1), one("3a ssp GET 200"),
		lookups(1), one("4a ssp GET 200"),
		lookups(1), one("5a ssp GET 200"),
		lookups(1), one("6a ssp POST 201"))
	assert.DeepEqual(t, rec.lines(0), want, "hops")
	// The sandbox saw every SSP call forwarded to the provider.
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"),
		sdsLookups, viaSSP("3", "read metadata", 200),
		sdsLookups, viaSSP("4", "search free slots", 200),
		sdsLookups, viaSSP("5", "find patient", 200),
		sdsLookups, viaSSP("6", "book appointment", 201)), "journal")

	// A second booking in the same session makes only the calls it must.
	n := rec.len()
	b2, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b2.Slot.ID != b.Slot.ID, true, "another slot")
	assert.DeepEqual(t, rec.lines(n), []string{"4a ssp GET 200", "6a ssp POST 201"}, "second booking hops")
	assert.DeepEqual(t, journalLines(sb)[17:], join(viaSSP("4", "search free slots", 200), viaSSP("6", "book appointment", 201)), "second booking journal")
}

func TestE2ENoRecordRegistersThenBooks(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, "", 5*time.Second)
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9733162043"})
	assert.NilError(t, err)
	assert.Equal(t, b.Patient.Registered, true, "registered")
	want := join(one("1a pds GET 200"),
		lookups(1), one("3a ssp GET 200"),
		lookups(1), one("4a ssp GET 200"),
		lookups(1), one("5a ssp GET 200"),
		lookups(1), one("branch ssp POST 200"),
		lookups(1), one("6a ssp POST 201"))
	assert.DeepEqual(t, rec.lines(0), want, "hops")
	assert.Equal(t, b.Appointment.Resource.Participant[0].Actor.Reference, "Patient/"+b.Patient.ID, "patient participant")
	// Register patient is the no-record branch: steps 5e (consumer→SSP) and
	// 5f (SSP→provider).
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"),
		sdsLookups, viaSSP("3", "read metadata", 200),
		sdsLookups, viaSSP("4", "search free slots", 200),
		sdsLookups, viaSSP("5", "find patient", 200),
		sdsLookups, []string{"5f provider.register patient 200", "5e ssp.register patient 200"},
		sdsLookups, viaSSP("6", "book appointment", 201)), "journal")
}

func TestE2ENoSlotsInFirstWindow(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, "", 5*time.Second)
	// The built-in world has weekday slots only: a Saturday–Sunday window
	// is empty, the next one is not.
	sat := time.Now()
	for sat.Weekday() != time.Saturday {
		sat = sat.AddDate(0, 0, 1)
	}
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109", From: sat, Days: 1, Windows: 3})
	assert.NilError(t, err)
	assert.Equal(t, b.Slot.StartTime.Weekday(), time.Monday, "booked on the Monday")
	want := join(one("1a pds GET 200"),
		lookups(1), one("3a ssp GET 200"),
		lookups(1), one("4a ssp GET 200"), one("4a ssp GET 200"),
		lookups(1), one("5a ssp GET 200"),
		lookups(1), one("6a ssp POST 201"))
	assert.DeepEqual(t, rec.lines(0), want, "hops")
	assert.DeepEqual(t, journalOf(sb, "search free slots"), join(viaSSP("4", "search free slots", 200), viaSSP("4", "search free slots", 200)), "two slot searches reached the provider")
}

func TestE2ESlotTakenBetweenSearchAndBook(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	rec := &recorder{}
	cfg := consumer.Config{PDS: sb.PDS, SDS: sb.SDS, SSP: sb.SSP, ASID: "200000000115", Identity: identity(), Timeout: 5 * time.Second, Observer: rec.observe}
	c, err := consumer.New(cfg)
	assert.NilError(t, err)
	cfg.Observer = nil
	other, err := consumer.New(cfg)
	assert.NilError(t, err)
	var once sync.Once
	var taken string
	rec.on = func(h consumer.Hop) {
		if h.Step != "4a" {
			return
		}
		// Another client books the first free slot before we do.
		once.Do(func() {
			ob, err := other.NewSession().Book(context.Background(), consumer.BookRequest{NHSNumber: "9736363015"})
			assert.NilError(t, err)
			taken = ob.Slot.ID
		})
	}
	b, err := c.NewSession().Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b.Attempts, 2, "attempts")
	assert.Equal(t, b.Slot.ID != taken, true, "booked another slot than "+taken)
	want := join(one("1a pds GET 200"),
		lookups(1), one("3a ssp GET 200"),
		lookups(1), one("4a ssp GET 200"),
		lookups(1), one("5a ssp GET 200"),
		lookups(1), one("6a ssp POST 409"),
		one("4a ssp GET 200"), one("6a ssp POST 201"))
	assert.DeepEqual(t, rec.lines(0), want, "hops")
	// The other client's booking, our refused one (409 from the provider,
	// passed on by the SSP), then ours on another slot.
	assert.DeepEqual(t, journalOf(sb, "book appointment"), join(viaSSP("6", "book appointment", 201),
		viaSSP("6", "book appointment", 409), viaSSP("6", "book appointment", 201)), "journal of bookings")
}

func TestE2EAnotherPractice(t *testing.T) {
	t.Parallel()
	s, rec, _ := start(t, "", 5*time.Second)
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109", ODS: "Y12345"})
	assert.NilError(t, err)
	assert.Equal(t, b.ODS, "Y12345", "ODS")
	assert.Equal(t, b.Patient.Registered, true, "temporary registration at Y12345")
	assert.Equal(t, rec.lines(0)[0], "1a pds GET 200", "PDS still traced")
	assert.Contains(t, rec.hops[2].URL, "Y12345", "SDS asked about Y12345")
}

func TestE2EPDSFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		nhs         string
		kind        error
		wantHops    []string
		wantJournal []string
		wantStatus  int
		wantCode    string
	}{
		{"deceased", "9000000009", consumer.ErrDeceased, []string{"1a pds GET 200"}, []string{"1a pds.retrieve 200"}, 200, ""},
		// NHS's restricted 9000000025 is also deceased: the world's own
		// restricted, living patient is 9990000018.
		{"restricted and deceased", "9000000025", consumer.ErrDeceased, []string{"1a pds GET 200"}, []string{"1a pds.retrieve 200"}, 200, ""},
		{"restricted", "9990000018", consumer.ErrRestricted, []string{"1a pds GET 200"}, []string{"1a pds.retrieve 200"}, 200, ""},
		{"invalid: no call at all", "9000000000", consumer.ErrInvalidNHSNumber, nil, nil, 0, ""},
		{"not found", "9111231130", consumer.ErrPatientNotFound, []string{"1a pds GET 404"}, []string{"1a pds.retrieve 404"}, 404, "RESOURCE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, rec, sb := start(t, "", 5*time.Second)
			_, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: tt.nhs})
			assert.Equal(t, errors.Is(err, tt.kind), true, "kind: "+fmt.Sprint(err))
			e, _ := consumer.AsError(err)
			assert.Equal(t, e.Hop, consumer.HopPDS, "hop")
			assert.Equal(t, e.Step, "1a", "step")
			assert.Equal(t, e.Status, tt.wantStatus, "status")
			assert.Equal(t, e.Code, tt.wantCode, "code")
			assert.DeepEqual(t, rec.lines(0), tt.wantHops, "hops")
			assert.DeepEqual(t, journalLines(sb), tt.wantJournal, "journal")
		})
	}
}

const supersededScenario = `
name: superseded
extends: builtin
patients:
  - nhs_number: "9693632109"
    name: {prefix: [Mr], given: [Bill], family: GARTON}
    birth_date: 1946-06-23
    gender: male
    practice: A20047
  - nhs_number: "9000000017"
    superseded_by: "9693632109"
`

func TestE2ESuperseded(t *testing.T) {
	t.Parallel()
	s, _, _ := start(t, supersededScenario, 5*time.Second)
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9000000017"})
	assert.NilError(t, err)
	assert.Equal(t, b.Trace.Superseded, true, "superseded")
	assert.Equal(t, b.Trace.NHSNumber, "9693632109", "kept number")
	assert.Equal(t, b.Patient.ID, "1", "found by the kept number")
}

const noEndpointScenario = `
name: no endpoint
extends: builtin
patients:
  - nhs_number: "9693632109"
    name: {given: [Bill], family: GARTON}
    practice: Z1001
practices:
  - ods: Z1001
    name: Unconnected Surgery
    asid: "200000000999"
    party_key: Z1001-000001
    interactions: [find patient]
`

func TestE2ESDSWithoutEndpoint(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, noEndpointScenario, 5*time.Second)
	_, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.Equal(t, errors.Is(err, consumer.ErrNoEndpoint), true, "ErrNoEndpoint: "+fmt.Sprint(err))
	e, _ := consumer.AsError(err)
	assert.Equal(t, e.Hop, consumer.HopSDS, "hop")
	assert.Equal(t, e.Step, "2a", "step")
	assert.Contains(t, e.Diagnostics, "Z1001", "names the practice")
	assert.Contains(t, e.Diagnostics, "read:metadata-1", "names the interaction")
	assert.DeepEqual(t, rec.lines(0), []string{"1a pds GET 200", "2a sds GET 200"}, "hops")
	assert.DeepEqual(t, journalLines(sb), []string{"1a pds.retrieve 200", "2a sds.endpoint 200"}, "journal")
}

const sspForbiddenScenario = `
name: consumer lacks slot search
extends: builtin
consumer:
  asid: "200000000115"
  ods: A1001
  name: Sandbox Consumer Practice
  interactions: [read metadata]
`

func TestE2ESSPForbidden(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, sspForbiddenScenario, 5*time.Second)
	_, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	e, ok := consumer.AsError(err)
	assert.Equal(t, ok, true, "typed error: "+fmt.Sprint(err))
	assert.Equal(t, e.Hop, consumer.HopSSP, "hop")
	assert.Equal(t, e.Step, "4a", "step")
	assert.Equal(t, e.Status, 403, "status")
	assert.Equal(t, e.Code, "ASID_CHECK_FAILED_MESSAGESENDER_200000000115", "code")
	hops := rec.lines(0)
	assert.Equal(t, hops[len(hops)-1], "4a ssp GET 403", "last hop, not retried")
	// The SSP refused it: no 4b leg to the provider.
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"),
		sdsLookups, viaSSP("3", "read metadata", 200),
		sdsLookups, one("4a ssp.search free slots 403")), "journal")
	last := sb.Hops()[len(sb.Hops())-1]
	assert.Equal(t, last.Code, "ASID_CHECK_FAILED_MESSAGESENDER_200000000115", "journal code")
}

const closedPortScenario = `
name: provider unreachable
extends: builtin
patients:
  - nhs_number: "9693632109"
    name: {given: [Bill], family: GARTON}
    practice: Z2002
practices:
  - ods: Z2002
    name: Closed Surgery
    asid: "200000000998"
    party_key: Z2002-000001
    endpoint: http://127.0.0.1:1/Z2002/STU3/1/gpconnect
`

func TestE2ESSPBadGateway(t *testing.T) {
	t.Parallel()
	// The closed port must be an allowed upstream, or the sandbox refuses
	// the scenario (it is never an open proxy).
	up, err := sandbox.ParseUpstream("127.0.0.1:1")
	assert.NilError(t, err)
	s, rec, sb := startWith(t, sandbox.Config{Upstreams: []sandbox.Upstream{up}}, closedPortScenario, 5*time.Second)
	_, err = s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	e, ok := consumer.AsError(err)
	assert.Equal(t, ok, true, "typed error: "+fmt.Sprint(err))
	assert.Equal(t, e.Hop, consumer.HopSSP, "hop")
	assert.Equal(t, e.Step, "3a", "step")
	assert.Equal(t, e.Status, 502, "status")
	assert.Contains(t, e.Code, "ERROR_COMMUNICATING_TO_ENDPOINT_URL_", "code")
	// An idempotent GET: three tries in all.
	assert.DeepEqual(t, rec.lines(0)[3:], []string{"3a ssp GET 502", "3a ssp GET 502", "3a ssp GET 502"}, "retried metadata")
	// The endpoint is outside the sandbox: no provider leg is recorded.
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"), sdsLookups,
		[]string{"3a ssp.read metadata 502", "3a ssp.read metadata 502", "3a ssp.read metadata 502"}), "journal")
}

// slowBookScenario holds the provider's first booking answer back for 3s
// after the booking is made: a consumer with a 1s timeout gives up on a
// booking that exists (§ retries: POST is not idempotent).
const slowBookScenario = `
name: provider slow to book
extends: builtin
faults:
  - hop: provider
    interaction: book appointment
    delay: 3s
    times: 1
`

func TestE2EProviderTimeoutOnBooking(t *testing.T) {
	t.Parallel()
	s, rec, sb := start(t, slowBookScenario, time.Second)
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b.Reconciled, true, "reconciled")
	hops := rec.lines(0)
	assert.DeepEqual(t, hops[len(hops)-4:], []string{"6a ssp POST 0", "2a sds GET 200", "2c sds GET 200", "6r ssp GET 200"}, "no second POST")
	// Exactly one appointment holds the slot: no double booking.
	list, err := s.PatientAppointments(context.Background(), "A20047", "1", b.Slot.StartTime, b.Slot.StartTime)
	assert.NilError(t, err)
	n := 0
	for _, a := range list {
		if a.Status == "booked" {
			n++
		}
	}
	assert.Equal(t, n, 1, "booked appointments")

	// The sandbox applied the scenario fault to the one booking that
	// reached the provider: made, then dropped once the consumer gave up.
	// The SSP records its own hop when its handler returns, which may be
	// after the consumer has moved on: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for len(journalOf(sb, "book appointment")) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var books []journal.Hop
	for _, h := range sb.Hops() {
		if strings.HasSuffix(h.Name, "book appointment") {
			books = append(books, h)
		}
	}
	assert.Equal(t, len(books), 2, "booking hops in the journal (provider leg, SSP call)")
	assert.Equal(t, books[0].Name, "provider.book appointment", "first booking hop")
	assert.Equal(t, books[0].Step, "6b", "provider leg step")
	assert.Equal(t, books[0].Fault, "provider fault: delay 3s", "fault applied")
	assert.Equal(t, books[0].Error, "connection dropped", "provider answer never delivered")
	assert.Equal(t, books[0].Status, 0, "provider leg status")
	assert.Equal(t, books[1].Name, "ssp.book appointment", "second booking hop")
	assert.Equal(t, books[1].Step, "6a", "SSP call step")
	// Reconciliation (6r) and the check above each went through the SSP.
	assert.DeepEqual(t, journalOf(sb, "retrieve appointments"),
		join(viaSSP("7", "retrieve appointments", 200), viaSSP("7", "retrieve appointments", 200)), "journal of reads")
}
