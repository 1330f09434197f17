package nhssuite_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/publichook"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// The built-in world's identities (internal/scenario/builtin.yaml).
const (
	consumerASID = "200000000115"
	providerASID = "918999198993"
	practiceODS  = "A20047"
	recordID     = "1"          // record of 9693632109 at A20047
	nhsToRegist  = "9733162043" // on PDS, no record at A20047
)

// identity is the consumer's user in every JWT (own values).
var identity = jwt.Identity{
	Issuer: "https://consumer.suite.test/", DeviceID: "SUITE-TEST", DeviceModel: "Suite rows", DeviceVersion: "1.0",
	OrgODS: "A1001", OrgName: "Sandbox Consumer Practice", PractitionerID: "1", SDSUserID: "G1234567",
	SDSRoleProfileID: "111122223333", Family: "Hollins", Given: []string{"Ada"}, Prefix: []string{"Dr"},
}

// suite is one sandbox the rows run against, reset between rows that
// change its world.
type suite struct {
	t  *testing.T
	sb *sandboxtest.Sandbox
	ss *sandbox.Session
}

func newSuite(t *testing.T) *suite {
	sb := sandboxtest.Start(t, "")
	return &suite{t: t, sb: sb, ss: sb.Session}
}

// reset restores the built-in world (the session is replaced; its URLs
// stay).
func (s *suite) reset() {
	s.t.Helper()
	if err := s.sb.Reset(); err != nil {
		s.t.Fatalf("reset: %v", err)
	}
	_, s.ss = publichook.Internals(s.sb.Sandbox)
}

func (s *suite) root() string {
	p, ok := s.ss.World.Practice(practiceODS)
	if !ok {
		s.t.Fatalf("no practice %s", practiceODS)
	}
	return s.ss.World.ServiceRoot(p)
}

// spec is one request as a row builds it.
type spec struct {
	in       gpc.Interaction
	method   string // the request's method; in's by default
	path     string // below the service root
	body     string
	header   http.Header // set over the defaults; an empty value deletes
	claims   func(map[string]any)
	auth     string // a whole Authorization header instead of the JWT
	direct   bool   // to the provider's service root, not through the SSP
	noAccept bool
}

type mod func(*spec)

func header(k, v string) mod            { return func(r *spec) { r.header.Set(k, v) } }
func claims(f func(map[string]any)) mod { return func(r *spec) { r.claims = f } }
func method(m string) mod               { return func(r *spec) { r.method = m } }

// response is what came back, with the Spine code of an OperationOutcome
// body (the coding's code, or for the SSP's own shape its display).
type response struct {
	status int
	header http.Header
	body   []byte
	code   string
}

// send makes the request of in at path with body, as a consumer would:
// the §1.3 headers, a fresh Ssp-TraceID and a valid §2 JWT.
func (s *suite) send(in gpc.Interaction, path, body string, mods ...mod) response {
	s.t.Helper()
	info, ok := gpc.Lookup(in)
	if !ok {
		s.t.Fatalf("unknown interaction %s", in)
	}
	r := &spec{in: in, method: info.Method, path: path, body: body, header: http.Header{}}
	for _, m := range mods {
		m(r)
	}
	root := s.root()
	url := s.ss.URLs().SSP + root + r.path
	if r.direct {
		url = root + r.path
	}
	var rd io.Reader
	if r.body != "" {
		rd = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, url, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	h := req.Header
	h["Ssp-TraceID"] = []string{gpc.NewUUID()}
	h["Ssp-From"] = []string{consumerASID}
	h["Ssp-To"] = []string{providerASID}
	h["Ssp-InteractionID"] = []string{string(in)}
	h.Set("Authorization", r.auth)
	if r.auth == "" {
		h.Set("Authorization", "Bearer "+s.token(root, info.Scope, r.claims))
	}
	h.Set("Accept", "application/fhir+json")
	if r.body != "" {
		h.Set("Content-Type", "application/fhir+json;charset=utf-8")
	}
	for k, vs := range r.header {
		for hk := range h {
			if strings.EqualFold(hk, k) {
				delete(h, hk) // the Ssp-* keys are set as spelt, not canonical
			}
		}
		if len(vs) == 1 && vs[0] == "" {
			continue
		}
		h[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b, code: spineCode(b)}
}

// token is a valid JWT for the service root and scope, its claims edited.
func (s *suite) token(aud string, scope gpc.Scope, edit func(map[string]any)) string {
	s.t.Helper()
	tok, err := jwt.Build(identity, aud, scope, s.ss.World.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	if edit == nil {
		return tok
	}
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		s.t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		s.t.Fatal(err)
	}
	edit(c)
	out, err := json.Marshal(c)
	if err != nil {
		s.t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(out) + "."
}

func spineCode(body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Details struct {
				Coding []struct{ Code, Display string }
			}
		}
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 || len(oo.Issue[0].Details.Coding) == 0 {
		return ""
	}
	c := oo.Issue[0].Details.Coding[0]
	if c.Code != "" && (c.Code[0] < '0' || c.Code[0] > '9') {
		return c.Code // GPConnect-OperationOutcome-1: the Spine code
	}
	return c.Display // the SSP's shape: the HTTP status and its message
}

// freeSlot is the first free future slot of A20047 anyone may book, and
// its schedule.
func (s *suite) freeSlot(skip int) (world.Slot, world.Schedule) {
	s.t.Helper()
	now := s.ss.World.Now()
	for _, sl := range s.ss.World.Slots(practiceODS) {
		if sl.Status != world.Free || !sl.Start.After(now.Add(time.Hour)) || len(sl.ODSCodes) > 0 || len(sl.OrgTypes) > 0 {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		for _, sc := range s.ss.World.Schedules(practiceODS) {
			if sc.ID == sl.Schedule {
				return sl, sc
			}
		}
	}
	s.t.Fatal("no free slot")
	return world.Slot{}, world.Schedule{}
}

// bookBody is a GPConnect-Appointment-1 booking of the first free slot
// for record 1 (gpconnect-1.6.md §4.2 shape, own values), as a map rows
// edit.
func (s *suite) bookBody() map[string]any {
	sl, sc := s.freeSlot(0)
	parts := []any{
		map[string]any{"actor": map[string]any{"reference": "Patient/" + recordID}, "status": "accepted"},
		map[string]any{"actor": map[string]any{"reference": "Location/" + sc.Location}, "status": "accepted"},
	}
	if sc.Practitioner != "" {
		parts = append(parts, map[string]any{"actor": map[string]any{"reference": "Practitioner/" + sc.Practitioner}, "status": "accepted"})
	}
	return map[string]any{
		"resourceType": "Appointment",
		"meta":         map[string]any{"profile": []any{gpc.ProfileAppointment}},
		"contained": []any{map[string]any{
			"resourceType": "Organization", "id": "1",
			"meta":       map[string]any{"profile": []any{gpc.ProfileOrganization}},
			"identifier": []any{map[string]any{"system": gpc.SystemODSCode, "value": "A1001"}},
			"name":       "Sandbox Consumer Practice",
			"telecom":    []any{map[string]any{"system": "phone", "value": "0113 496 0999"}},
		}},
		"extension":   []any{map[string]any{"url": gpc.ExtBookingOrganisation, "valueReference": map[string]any{"reference": "#1"}}},
		"status":      "booked",
		"description": "Suite row booking",
		"start":       sl.Start.Format(time.RFC3339),
		"end":         sl.End.Format(time.RFC3339),
		"slot":        []any{map[string]any{"reference": "Slot/" + sl.ID}},
		"created":     s.ss.World.Now().Add(-time.Minute).Format(time.RFC3339),
		"participant": parts,
	}
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// book books bookBody edited by edit and returns the response.
func (s *suite) book(edit func(map[string]any), mods ...mod) response {
	s.t.Helper()
	a := s.bookBody()
	if edit != nil {
		edit(a)
	}
	return s.send(gpc.CreateAppointment, "/Appointment", encode(s.t, a), mods...)
}

// booked is a fresh booking the provider returned, as the map a row edits
// for an amend or cancel (the suite's "Created Appointment").
func (s *suite) booked() map[string]any {
	s.t.Helper()
	s.reset()
	r := s.book(nil)
	if r.status != http.StatusCreated {
		s.t.Fatalf("booking: %d %s", r.status, r.body)
	}
	var a map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// change sends a as an amend or cancel of itself (no If-Match unless a
// mod sets one, as the suite does).
func (s *suite) change(in gpc.Interaction, a map[string]any, mods ...mod) response {
	s.t.Helper()
	id, _ := a["id"].(string)
	return s.send(in, "/Appointment/"+id, encode(s.t, a), mods...)
}

// cancelled marks a cancelled with reason, under the extension url.
func cancelled(a map[string]any, url, reason string) {
	a["status"] = "cancelled"
	exts, _ := a["extension"].([]any)
	a["extension"] = append(exts, map[string]any{"url": url, "valueString": reason})
}

// registerBody is a register patient Parameters for 9733162043
// (gpconnect-1.6.md §3.3 shape), its Patient edited by edit.
func registerBody(t *testing.T, edit func(p map[string]any)) string {
	p := map[string]any{
		"resourceType": "Patient",
		"meta":         map[string]any{"profile": []any{gpc.ProfilePatient}},
		"identifier":   []any{map[string]any{"system": gpc.SystemNHSNumber, "value": nhsToRegist}},
		"name":         []any{map[string]any{"use": "official", "family": "KILLEN", "given": []any{"Dean"}}},
		"gender":       "male",
		"birthDate":    "1955-05-27",
	}
	if edit != nil {
		edit(p)
	}
	return encode(t, map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "registerPatient", "resource": p}}})
}

// appendTo appends v to the list p[k].
func appendTo(p map[string]any, k string, v any) {
	l, _ := p[k].([]any)
	p[k] = append(l, v)
}

// TestBrowserPreflight: a preflight as a browser sends it (no Ssp-*
// headers, no JWT) passes the sandbox, strict as it is, to the SSP, which
// answers it.
func TestBrowserPreflight(t *testing.T) {
	s := newSuite(t)
	req, err := http.NewRequest("OPTIONS", s.ss.URLs().SSP+s.root()+"/Appointment/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://consumer.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "https://consumer.example" ||
		res.Header.Get("Access-Control-Allow-Methods") != "GET, PUT" {
		t.Errorf("got %d, Allow-Origin %q, Allow-Methods %q; want 200, the origin, GET, PUT", res.StatusCode,
			res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Allow-Methods"))
	}
	// The preflight is no GP Connect message: the consumer's verdict must
	// not fail for the Ssp-* headers and JWT a browser never puts on it.
	hops := s.ss.Journal.Hops()
	if len(hops) != 1 {
		t.Fatalf("journal holds %d hops, want the preflight alone", len(hops))
	}
	for _, v := range hops[0].Checks {
		if !v.Passed {
			t.Errorf("the preflight failed %s: %s", v.Check, v.Message)
		}
	}
}
