package sandbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// The built-in world's identities (internal/scenario/builtin.yaml).
const (
	consumerASID = "200000000115"
	consumerODS  = "A1001"
	providerASID = "918999198993"
	practiceODS  = "A20047"
	nhsBooked    = "9693632109" // record 1 at A20047
	recordID     = "1"
)

// env is a sandbox served over HTTP on 127.0.0.1.
type env struct {
	URL    string
	Server *sandbox.Server
	client *http.Client
}

// start serves a sandbox built as sandboxtest.Start builds it, with cfg's
// other fields kept.
func start(t testing.TB, cfg sandbox.Config) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{URL: cfg.PublicURL, Server: srv, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// session creates a session running scenarioYAML ("" = the built-in world).
func (e *env) session(t testing.TB, scenarioYAML string) *sandbox.Session {
	t.Helper()
	sc := scenario.Default()
	if scenarioYAML != "" {
		var err error
		if sc, err = scenario.Load("test.yaml", []byte(scenarioYAML)); err != nil {
			t.Fatalf("scenario: %v", err)
		}
	}
	ss, err := e.Server.CreateSession("", sc)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ss
}

// response is what came back from one request.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	c, _ := gpc.SpineCode(r.body)
	return c
}

func (r response) String() string {
	b := string(r.body)
	if len(b) > 400 {
		b = b[:400] + "…"
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// do sends req and reads the whole answer; a transport error fails t.
func (e *env) do(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return response{res.StatusCode, res.Header, b}
}

// plain is a request with no GP Connect headers (admin API, PDS, SDS).
func plain(t testing.TB, method, url, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		// The admin API reads JSON or YAML only (guard.go).
		ct := "application/yaml"
		if strings.HasPrefix(body, "{") {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	return req
}

// identity is the consumer's user in every JWT.
var identity = jwt.Identity{
	Issuer: "https://consumer.sandbox.test/", DeviceID: "SANDBOX-TEST", DeviceModel: "Sandbox Tests", DeviceVersion: "1.0",
	OrgODS: consumerODS, OrgName: "Sandbox Consumer Practice", PractitionerID: "P-1", SDSUserID: "G1234567",
	Family: "Hollins", Given: []string{"Ada"}, Prefix: []string{"Dr"},
}

// gpcRequest is a valid GP Connect request (gpconnect-1.6.md §1.3 headers,
// §2 JWT) for the practice's interaction in; via says whether it goes
// through the session's SSP or straight to the provider path.
func gpcRequest(t testing.TB, ss *sandbox.Session, viaSSP bool, in gpc.Interaction, method, path, body string) *http.Request {
	t.Helper()
	root := serviceRoot(t, ss)
	info, ok := gpc.Lookup(in)
	if !ok {
		t.Fatalf("unknown interaction %s", in)
	}
	tok, err := jwt.Build(identity, root, info.Scope, ss.World.Now())
	if err != nil {
		t.Fatalf("jwt.Build: %v", err)
	}
	url := root + path
	if viaSSP {
		url = ss.URLs().SSP + root + path
	}
	req := plain(t, method, url, body)
	h := req.Header
	h.Set("Ssp-TraceID", gpc.NewUUID()) // §1.3: a new one per request (strict mode refuses a reuse)
	h.Set("Ssp-From", consumerASID)
	h.Set("Ssp-To", providerASID)
	h.Set("Ssp-InteractionID", string(in))
	h.Set("Authorization", "Bearer "+tok)
	h.Set("Accept", "application/fhir+json")
	if body != "" {
		h.Set("Content-Type", "application/fhir+json;charset=utf-8")
	}
	return req
}

// serviceRoot is the provider root SDS hands out for A20047 in ss.
func serviceRoot(t testing.TB, ss *sandbox.Session) string {
	t.Helper()
	p, ok := ss.World.Practice(practiceODS)
	if !ok {
		t.Fatalf("no practice %s", practiceODS)
	}
	return ss.World.ServiceRoot(p)
}

// slotQuery searches a week of A20047's free slots from tomorrow.
func slotQuery(ss *sandbox.Session) string {
	now := ss.World.Now()
	return "/Slot?status=free&start=ge" + now.AddDate(0, 0, 1).Format("2006-01-02") +
		"&end=le" + now.AddDate(0, 0, 8).Format("2006-01-02") + "&_include=Slot:schedule"
}

// freeSlots are A20047's free future slots, soonest first.
func freeSlots(ss *sandbox.Session) []world.Slot {
	now := ss.World.Now()
	var out []world.Slot
	for _, s := range ss.World.Slots(practiceODS) {
		if s.Status == world.Free && s.Start.After(now) && len(s.ODSCodes) == 0 && len(s.OrgTypes) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// bookBody books slot s for record 1 at the slot's location
// (gpconnect-1.6.md §4.2 shape, own values).
func bookBody(t testing.TB, ss *sandbox.Session, s world.Slot) string {
	t.Helper()
	loc := ""
	for _, sc := range ss.World.Schedules(practiceODS) {
		if sc.ID == s.Schedule {
			loc = sc.Location
		}
	}
	a := map[string]any{
		"resourceType": "Appointment",
		"meta":         map[string]any{"profile": []string{gpc.ProfileAppointment}},
		"contained": []any{map[string]any{
			"resourceType": "Organization", "id": "1",
			"meta":       map[string]any{"profile": []string{gpc.ProfileOrganization}},
			"identifier": []any{map[string]any{"system": gpc.SystemODSCode, "value": consumerODS}},
			"name":       "Sandbox Consumer Practice",
			"telecom":    []any{map[string]any{"system": "phone", "value": "0113 496 0999"}},
		}},
		"extension":   []any{map[string]any{"url": gpc.ExtBookingOrganisation, "valueReference": map[string]any{"reference": "#1"}}},
		"status":      "booked",
		"description": "Sandbox test booking",
		"start":       s.Start.Format(time.RFC3339),
		"end":         s.End.Format(time.RFC3339),
		"slot":        []any{map[string]any{"reference": "Slot/" + s.ID}},
		"created":     ss.World.Now().Add(-time.Minute).Format(time.RFC3339),
		"participant": []any{
			map[string]any{"actor": map[string]any{"reference": "Patient/" + recordID}, "status": "accepted"},
			map[string]any{"actor": map[string]any{"reference": "Location/" + loc}, "status": "accepted"},
		},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// book books s in ss through the SSP or straight at the provider.
func (e *env) book(t testing.TB, ss *sandbox.Session, viaSSP bool, s world.Slot) response {
	t.Helper()
	return e.do(t, gpcRequest(t, ss, viaSSP, gpc.CreateAppointment, http.MethodPost, "/Appointment", bookBody(t, ss, s)))
}

// slotBooked reports whether s is booked (busy) in ss.
func slotBooked(ss *sandbox.Session, id string) bool {
	for _, s := range ss.World.Slots(practiceODS) {
		if s.ID == id {
			return s.Status == world.Busy
		}
	}
	return false
}

// hopSummary is "from→to step status" for each hop, to compare exactly.
func hopSummary(hops []journal.Hop) []string {
	out := []string{}
	for _, h := range hops {
		out = append(out, fmt.Sprintf("%s→%s %s %s %d", h.From, h.To, h.Step, h.Name, h.Status))
	}
	return out
}

// wantStatus fails t unless r has status and (for errors) Spine code.
func wantStatus(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), status, code, r)
	}
}

// pdsGet is a PDS read with the X-Request-ID PDS requires.
func pdsGet(t testing.TB, url string) *http.Request {
	t.Helper()
	req := plain(t, http.MethodGet, url, "")
	req.Header.Set("X-Request-ID", "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11")
	return req
}

// readAll reads r into buf until EOF or buf is full.
func readAll(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return n, err
}
