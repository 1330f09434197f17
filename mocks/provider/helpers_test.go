package provider_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// The test world: consumer A1001, practices A20047 and Y12345 (the
// built-in world's identities), a clock pinned on Monday 11 May 2026
// 08:00 BST.
const (
	consumerASID = "200000000115"
	practiceASID = "918999198993"
	otherASID    = "200000000116"
	ods          = "A20047"
	publicBase   = "http://127.0.0.1:4000"
	root         = publicBase + "/provider/" + ods + "/STU3/1/gpconnect"

	nhsActive     = "9434765005" // record 1, active
	nhsInactive   = "9434765013" // record 2, inactive
	nhsDeceased   = "9434765021" // record 3, deceased on PDS
	nhsRestricted = "9434765048" // record 4, sensitive on PDS
	nhsNew        = "9434765056" // on PDS, no record: can register
	nhsDeadNew    = "9434765064" // on PDS deceased, no record
	nhsNotOnPDS   = "9434765072"
	nhsUnverified = "9434765080" // record 5, never verified, DOB matches
)

var (
	bst     = time.FixedZone("BST", 3600)
	nowTime = time.Date(2026, 5, 11, 8, 0, 0, 0, bst)
)

func at(day, hour, min int) time.Time { return time.Date(2026, 5, day, hour, min, 0, 0, bst) }

func name(prefix, given, family string) *world.Name {
	return &world.Name{Prefix: []string{prefix}, Given: []string{given}, Family: family}
}

// testData builds the world's data; every test gets its own World.
func testData() world.Data {
	slot := func(id, sched string, start time.Time, mins int, channel, typ string) world.Slot {
		return world.Slot{ID: id, Schedule: sched, Start: start, End: start.Add(time.Duration(mins) * time.Minute),
			Status: world.Free, DeliveryChannel: channel, ServiceType: typ}
	}
	busy := func(s world.Slot) world.Slot { s.Status = world.Busy; return s }
	restricted := slot("5", "14", at(12, 11, 30), 10, gpc.ChannelInPerson, "General GP Appointment")
	restricted.ODSCodes = []string{"B99999"}
	home := world.Address{Use: "home", Lines: []string{"4 Mill Lane", "Kirkstall"}, City: "Leeds", District: "West Yorkshire", PostalCode: "LS5 3AA"}
	bookingOrg := json.RawMessage(`{"resourceType":"Organization","id":"1","meta":{"profile":["` + gpc.ProfileOrganization + `"]},` +
		`"identifier":[{"system":"` + gpc.SystemODSCode + `","value":"A1001"}],"name":"Northgate Urgent Care","telecom":[{"system":"phone","value":"0113 496 0000"}]}`)
	return world.Data{
		Consumer: world.ConsumerSystem{ASID: consumerASID, ODS: "A1001", Name: "Northgate Urgent Care"},
		Patients: []world.Patient{
			{NHSNumber: nhsActive, Name: name("Mrs", "Olivia", "Bennett"), BirthDate: "1961-03-14", Gender: "female", Practice: ods,
				Address: []world.Address{home}, Telecom: []world.Telecom{{System: "phone", Value: "0113 496 0101", Use: "home"}}},
			{NHSNumber: nhsInactive, Name: name("Mr", "Samuel", "Reid"), BirthDate: "1978-07-02", Gender: "male", Practice: ods},
			{NHSNumber: nhsDeceased, Name: name("Mr", "Arthur", "Lowe"), BirthDate: "1930-01-01", Gender: "male", Practice: ods, Deceased: "2026-01-02"},
			{NHSNumber: nhsRestricted, Name: name("Ms", "Nadia", "Park"), BirthDate: "1990-11-20", Gender: "female", Practice: ods, Restricted: true},
			{NHSNumber: nhsNew, Name: name("Miss", "Grace", "Okafor"), BirthDate: "1985-09-09", Gender: "female", Practice: "B82617"},
			{NHSNumber: nhsDeadNew, Name: name("Mr", "Ian", "Hale"), BirthDate: "1940-02-02", Gender: "male", Deceased: "2025-12-01"},
			{NHSNumber: nhsUnverified, Name: name("Mr", "Tom", "Ward"), BirthDate: "1970-04-04", Gender: "male", Practice: ods},
		},
		Practices: []world.Practice{{
			ODS: ods, Name: "Riverside Medical Practice", OrganizationID: "7", ProviderASID: practiceASID, PartyKey: "A20047-821870",
			Address: &world.Address{Lines: []string{"1 River Street"}, City: "Leeds", District: "West Yorkshire", PostalCode: "LS1 4AB"},
			Telecom: []world.Telecom{{System: "phone", Value: "0113 496 0500", Use: "work"}},
			Records: []world.Record{
				{ID: "1", NHSNumber: nhsActive, State: world.Active, RegistrationType: "R", PreferredBranch: "32"},
				{ID: "2", NHSNumber: nhsInactive, State: world.Inactive},
				{ID: "3", NHSNumber: nhsDeceased, State: world.Active},
				{ID: "4", NHSNumber: nhsRestricted, State: world.Active},
				{ID: "5", NHSNumber: nhsUnverified, State: world.Active, Unverified: true, BirthDate: "1970-04-04"},
			},
			Locations: []world.Location{
				{ID: "32", Name: "Riverside Surgery", Address: &world.Address{Lines: []string{"1 River Street"}, City: "Leeds", District: "West Yorkshire", PostalCode: "LS1 4AB"},
					Telecom: []world.Telecom{{System: "phone", Value: "0113 496 0500", Use: "work"}}},
				{ID: "33", Name: "Hill Branch Surgery"},
			},
			Practitioners: []world.Practitioner{{ID: "2", SDSUserID: "111122224444", Name: *name("Dr", "Amelia", "Hart"), Gender: "female",
				RoleCode: "R0260", RoleDisplay: "General Medical Practitioner"}},
			Schedules: []world.Schedule{
				{ID: "14", Location: "32", Practitioner: "2", ServiceCategory: "General GP Appointments"},
				{ID: "15", Location: "33", ServiceCategory: "Nurse Clinics"},
			},
			Slots: []world.Slot{
				slot("1", "14", at(12, 10, 0), 10, gpc.ChannelInPerson, "General GP Appointment"),
				slot("2", "14", at(12, 10, 10), 10, gpc.ChannelInPerson, "General GP Appointment"),
				slot("3", "14", at(13, 9, 0), 10, gpc.ChannelTelephone, "Telephone Consultation"),
				busy(slot("4", "14", at(12, 11, 0), 10, gpc.ChannelInPerson, "General GP Appointment")),
				restricted,
				slot("6", "15", at(20, 14, 0), 15, gpc.ChannelInPerson, "Nurse Appointment"),
				slot("7", "14", at(10, 10, 0), 10, gpc.ChannelInPerson, "General GP Appointment"), // yesterday
				slot("8", "14", at(26, 9, 0), 10, gpc.ChannelInPerson, "General GP Appointment"),
				busy(slot("9", "14", at(14, 9, 0), 10, gpc.ChannelInPerson, "General GP Appointment")),
				busy(slot("10", "14", at(1, 9, 0), 10, gpc.ChannelInPerson, "General GP Appointment")),
			},
			Appointments: []world.Appointment{
				{ID: "20", Status: world.Booked, Patient: "1", Slots: []string{"9"}, Start: at(14, 9, 0), End: at(14, 9, 10),
					Created: at(4, 12, 0), Description: "Knee pain review", Updated: at(4, 12, 0), BookingOrganization: bookingOrg,
					Participants: []world.Participant{{Reference: "Patient/1", Status: "accepted"}, {Reference: "Location/32", Status: "accepted"}}},
				{ID: "21", Status: world.Booked, Patient: "1", Slots: []string{"10"}, Start: at(1, 9, 0), End: at(1, 9, 10),
					Created: time.Date(2026, 4, 20, 12, 0, 0, 0, bst), Description: "Past visit", BookingOrganization: bookingOrg,
					Participants: []world.Participant{{Reference: "Patient/1", Status: "accepted"}, {Reference: "Location/32", Status: "accepted"}}},
			},
		}, {
			ODS: "Y12345", Name: "Hilltop Surgery", OrganizationID: "1", ProviderASID: otherASID,
		}},
	}
}

func newWorld() *world.World {
	return world.New(testData(), publicBase, func() time.Time { return nowTime })
}

// fixture is a started provider over its own world.
type fixture struct {
	t     testing.TB
	world *world.World
	srv   *httptest.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture over the test world as edit leaves it.
func newFixtureWith(t testing.TB, edit func(*world.Data)) *fixture {
	t.Helper()
	data := testData()
	if edit != nil {
		edit(&data)
	}
	w := world.New(data, publicBase, func() time.Time { return nowTime })
	srv := httptest.NewServer(provider.New(w))
	t.Cleanup(srv.Close)
	return &fixture{t: t, world: w, srv: srv}
}

var identity = jwt.Identity{
	Issuer: "https://consumer.example.nhs.uk/", DeviceID: "NUC-1", DeviceModel: "Northgate Booker", DeviceVersion: "2.1",
	OrgODS: "A1001", OrgName: "Northgate Urgent Care", PractitionerID: "10019", SDSUserID: "111222333444",
	Family: "Jones", Given: []string{"Claire"}, Prefix: []string{"Dr"},
}

// token is a valid JWT for the interaction at the test practice.
func token(t testing.TB, in gpc.Interaction) string {
	t.Helper()
	info, ok := gpc.Lookup(in)
	if !ok {
		info.Scope = gpc.OrganizationRead
	}
	tok, err := jwt.Build(identity, root, info.Scope, nowTime)
	if err != nil {
		t.Fatalf("jwt.Build: %v", err)
	}
	return tok
}

// call is one request: a valid one unless a test changes it.
type call struct {
	method      string
	path        string // below the service root, e.g. "/metadata"; or "!/..." for a path below /provider
	interaction gpc.Interaction
	body        string
	header      map[string]string // "" value deletes the header
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	c, _ := gpc.SpineCode(r.body)
	return c
}

func (r response) diagnostics() string {
	_, d := gpc.SpineCode(r.body)
	return d
}

func (f *fixture) do(c call) response {
	f.t.Helper()
	url := f.srv.URL + "/" + ods + "/STU3/1/gpconnect" + c.path
	if strings.HasPrefix(c.path, "!") {
		url = f.srv.URL + c.path[1:]
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		f.t.Fatal(err)
	}
	h := req.Header
	h.Set("Ssp-TraceID", "0b5e6a4e-9c3b-4fd2-8a39-1f0a3c2c9e11")
	h.Set("Ssp-From", consumerASID)
	h.Set("Ssp-To", practiceASID)
	h.Set("Ssp-InteractionID", string(c.interaction))
	h.Set("Authorization", "Bearer "+token(f.t, c.interaction))
	h.Set("Accept", "application/fhir+json")
	if method == http.MethodPost || method == http.MethodPut {
		h.Set("Content-Type", "application/fhir+json;charset=utf-8")
	}
	for k, v := range c.header {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			f.t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			f.t.Fatal(err)
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// wantError asserts an error response: status, Spine code and the
// GPConnect-OperationOutcome-1 shape.
func wantError(t testing.TB, r response, status int, code gpc.Code) {
	t.Helper()
	if r.status != status || r.code() != string(code) {
		t.Errorf("got %d %s (%s), want %d %s", r.status, r.code(), r.diagnostics(), status, code)
	}
	var oo gpc.OperationOutcome
	if err := json.Unmarshal(r.body, &oo); err != nil || oo.Meta == nil || len(oo.Meta.Profile) != 1 || oo.Meta.Profile[0] != gpc.ProfileOperationOutcome {
		t.Errorf("body is not a GPConnect-OperationOutcome-1: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json;charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// wantOK asserts a success status and decodes the body into v.
func wantOK(t testing.TB, r response, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d (%s: %s), want %d", r.status, r.code(), r.diagnostics(), status)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
	}
}

// bundleTypes lists "Type/id" of a searchset's entries in order.
func bundleTypes(t testing.TB, body []byte) []string {
	t.Helper()
	var b struct {
		ResourceType string
		Type         string
		Entry        []struct {
			Resource struct {
				ResourceType string
				ID           string
			}
		}
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("decoding bundle: %v", err)
	}
	if b.ResourceType != "Bundle" || b.Type != "searchset" {
		t.Fatalf("not a searchset Bundle: %s", body)
	}
	out := []string{}
	for _, e := range b.Entry {
		out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
	}
	return out
}
