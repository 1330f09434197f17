package conformance_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// The built-in world (internal/scenario/builtin.yaml).
const (
	base         = "http://127.0.0.1:9"
	consumerASID = "200000000115"
	providerASID = "918999198993"
	practiceODS  = "A20047"
	traceID      = "7c1e0a52-2f4b-4d8e-9a61-3b5c7d9e0f12"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newWorld(t *testing.T) *world.World {
	t.Helper()
	data, err := scenario.Default().World(now)
	assert.NilError(t, err)
	return world.New(data, base, func() time.Time { return now })
}

func root(t *testing.T, w *world.World) string {
	t.Helper()
	p, ok := w.Practice(practiceODS)
	if !ok {
		t.Fatalf("no practice %s", practiceODS)
	}
	return w.ServiceRoot(p)
}

var identity = jwt.Identity{
	Issuer: "https://consumer.test/", DeviceID: "CONF-TEST", DeviceModel: "Conformance Tests", DeviceVersion: "1.0",
	OrgODS: "A1001", OrgName: "Test Consumer Practice", PractitionerID: "P-7", SDSUserID: "G7654321",
	Family: "Okafor", Given: []string{"Ben"},
}

func token(t *testing.T, aud string, scope gpc.Scope) string {
	t.Helper()
	tok, err := jwt.Build(identity, aud, scope, now)
	assert.NilError(t, err)
	return tok
}

// retimed rewrites tok's exp to iat+secs (an unsigned token needs no
// re-signing).
func retimed(t *testing.T, tok string, secs int64) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	assert.NilError(t, err)
	var c map[string]any
	assert.NilError(t, json.Unmarshal(raw, &c))
	c["exp"] = int64(c["iat"].(float64)) + secs
	b, err := json.Marshal(c)
	assert.NilError(t, err)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// failed returns the names of the failed verdicts.
func failed(vs []journal.Verdict) []string {
	out := []string{}
	for _, v := range vs {
		if !v.Passed {
			out = append(out, v.Check)
		}
	}
	return out
}

func names(vs []journal.Verdict) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Check)
	}
	return out
}

// sspRequest is a valid consumer→SSP slot search; edit changes it.
func sspRequest(t *testing.T, w *world.World, in gpc.Interaction, method, path string, edit func(h http.Header, tok string) string) *http.Request {
	t.Helper()
	rt := root(t, w)
	info, _ := gpc.Lookup(in)
	tok := token(t, rt, info.Scope)
	r := httptest.NewRequest(method, "/ssp/"+rt+path, nil)
	h := r.Header
	h["Ssp-TraceID"] = []string{traceID}
	h["Ssp-From"] = []string{consumerASID}
	h["Ssp-To"] = []string{providerASID}
	h["Ssp-InteractionID"] = []string{string(in)}
	h.Set("Accept", "application/fhir+json;charset=utf-8")
	if edit != nil {
		tok = edit(h, tok)
	}
	h.Set("Authorization", "Bearer "+tok)
	return r
}

func TestSSP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	keep := func(h http.Header, tok string) string { return tok }
	tests := []struct {
		name    string
		in      gpc.Interaction
		method  string
		path    string
		edit    func(h http.Header, tok string) string
		failing []string
	}{
		{"valid slot search", gpc.SearchSlots, "GET", "/Slot?start=2026-03-02", nil, []string{}},
		{"valid read appointment", gpc.ReadAppointment, "GET", "/Appointment/12", nil, []string{}},
		{"trace id not a UUID", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h["Ssp-TraceID"] = []string{"trace-1"}; return tok }, []string{"SSP_TRACEID_UUID"}},
		{"trace id missing", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { delete(h, "Ssp-TraceID"); return tok }, []string{"SSP_TRACEID_UUID"}},
		{"from not an ASID", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h["Ssp-From"] = []string{"12345"}; return tok }, []string{"SSP_FROM_ASID_FORMAT"}},
		{"to not an ASID", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h["Ssp-To"] = []string{"abcdefabcdef"}; return tok }, []string{"SSP_TO_ASID_FORMAT"}},
		{"unknown interaction", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string {
			h["Ssp-InteractionID"] = []string{"urn:nhs:names:services:gpconnect:fhir:rest:read:nothing-1"}
			return tok
		}, []string{"SSP_INTERACTION_KNOWN"}},
		{"interaction does not match path", gpc.SearchSlots, "GET", "/Appointment/12", nil, []string{"INTERACTION_MATCHES_REQUEST"}},
		{"interaction does not match method", gpc.ReadAppointment, "DELETE", "/Appointment/12", nil, []string{"INTERACTION_MATCHES_REQUEST"}},
		{"accept xml", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h.Set("Accept", "application/fhir+xml"); return tok }, []string{}},
		{"accept plain xml", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h.Set("Accept", "application/xml"); return tok }, []string{"ACCEPT_FHIR_JSON"}},
		{"accept missing", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { h.Del("Accept"); return tok }, []string{"ACCEPT_FHIR_JSON"}},
		{"exp is iat+301", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { return retimed(t, tok, 301) }, []string{"JWT_EXP_NOT_IAT_PLUS_300"}},
		{"token for another audience", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string {
			return token(t, "https://elsewhere.test/gpconnect", gpc.OrganizationRead)
		}, []string{"JWT_AUD_NOT_SERVICE_ROOT"}},
		{"token with the wrong scope", gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string { return token(t, root(t, w), gpc.PatientWrite) }, []string{"JWT_SCOPE_WRONG_FOR_INTERACTION"}},
		{"unchanged edit", gpc.SearchSlots, "GET", "/Slot", keep, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sspRequest(t, w, tt.in, tt.method, tt.path, tt.edit)
			vs := conformance.SSP(r, root(t, w), w)
			assert.DeepEqual(t, failed(vs), tt.failing, "failed")
			for _, v := range vs {
				if v.Section == "" || v.Severity == "" {
					t.Errorf("verdict %s lacks section or severity: %+v", v.Check, v)
				}
			}
			// every JWT rule gets a verdict, passed or failed
			got := map[string]bool{}
			for _, v := range vs {
				got[v.Check] = true
			}
			for _, rule := range jwt.Rules {
				if !got[rule.Name] {
					t.Errorf("no verdict for %s", rule.Name)
				}
			}
		})
	}
}

// TestSSPUnknownRoot: with no known service root (the target is
// elsewhere; SSP_TARGET_MATCHES_ENDPOINT reports that) aud cannot be
// judged, so JWT_AUD_NOT_SERVICE_ROOT does not fire on its own account.
func TestSSPUnknownRoot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := sspRequest(t, w, gpc.SearchSlots, "GET", "/Slot", nil)
	vs := conformance.SSP(r, "", w)
	for _, v := range vs {
		if v.Check == "JWT_AUD_NOT_SERVICE_ROOT" && !v.Passed {
			t.Errorf("aud judged against no service root: %+v", v)
		}
	}
}

func TestSSPMissingAuthorization(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := sspRequest(t, w, gpc.SearchSlots, "GET", "/Slot", nil)
	r.Header.Del("Authorization")
	assert.DeepEqual(t, failed(conformance.SSP(r, root(t, w), w)), []string{"JWT_MISSING"}, "failed")
}

func TestJourney(t *testing.T) {
	t.Parallel()
	type step struct {
		in      gpc.Interaction
		ods     string
		trace   string
		to      string
		failing []string
	}
	const other = "0a1b2c3d-0000-4000-8000-000000000001"
	tests := []struct {
		name  string
		steps []step
	}{
		{"find then book", []step{
			{gpc.SearchPatient, practiceODS, traceID, providerASID, []string{}},
			{gpc.CreateAppointment, practiceODS, other, providerASID, []string{}},
		}},
		{"register then book", []step{
			{gpc.RegisterPatient, practiceODS, traceID, providerASID, []string{}},
			{gpc.CreateAppointment, practiceODS, other, providerASID, []string{}},
		}},
		{"book without find", []step{
			{gpc.CreateAppointment, practiceODS, traceID, providerASID, []string{"JOURNEY_BOOK_WITHOUT_FIND_PATIENT"}},
		}},
		{"find at another practice does not count", []step{
			{gpc.SearchPatient, "B99999", traceID, providerASID, []string{}},
			{gpc.CreateAppointment, practiceODS, other, providerASID, []string{"JOURNEY_BOOK_WITHOUT_FIND_PATIENT"}},
		}},
		{"trace id reused", []step{
			{gpc.SearchPatient, practiceODS, traceID, providerASID, []string{}},
			{gpc.SearchSlots, practiceODS, traceID, providerASID, []string{"JOURNEY_TRACEID_REUSED"}},
		}},
		{"booking at no known practice is not judged for a find", []step{
			{gpc.CreateAppointment, "", traceID, providerASID, []string{}},
		}},
		{"Ssp-To not the practice's ASID", []step{
			{gpc.SearchSlots, practiceODS, traceID, "123456789012", []string{"JOURNEY_SSP_TO_NOT_FROM_SDS"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := conformance.NewJourney(newWorld(t), 0)
			for i, s := range tt.steps {
				r := httptest.NewRequest("GET", "/ssp/x", nil)
				r.Header["Ssp-TraceID"] = []string{s.trace}
				r.Header["Ssp-To"] = []string{s.to}
				assert.DeepEqual(t, failed(j.Observe(r, s.in, s.ods)), s.failing, "step "+string(rune('1'+i)))
			}
		})
	}
}

func TestJourneyConcurrent(t *testing.T) {
	t.Parallel()
	j := conformance.NewJourney(newWorld(t), 0)
	done := make(chan int)
	for i := range 8 {
		go func() {
			r := httptest.NewRequest("GET", "/ssp/x", nil)
			r.Header["Ssp-TraceID"] = []string{traceID}
			r.Header["Ssp-To"] = []string{providerASID}
			n := len(failed(j.Observe(r, gpc.SearchPatient, practiceODS)))
			_ = i
			done <- n
		}()
	}
	fails := 0
	for range 8 {
		fails += <-done
	}
	assert.Equal(t, fails, 7, "all but the first use of one trace id fail")
}

func TestMerge(t *testing.T) {
	t.Parallel()
	reported := []journal.Verdict{{Check: "SSP_TRACEID_UUID", Message: "from the SSP"}}
	mine := []journal.Verdict{
		{Check: "SSP_TRACEID_UUID", Message: "mine"},
		{Check: "ACCEPT_FHIR_JSON", Message: "mine"},
		{Check: "JWT_MISSING", Passed: true},
	}
	got := conformance.Merge(reported, mine)
	assert.DeepEqual(t, got, []journal.Verdict{{Check: "SSP_TRACEID_UUID", Message: "from the SSP"}, {Check: "ACCEPT_FHIR_JSON", Message: "mine"}}, "merged")
}

func TestChecksTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range conformance.Checks {
		if seen[c.Name] {
			t.Errorf("duplicate check %s", c.Name)
		}
		seen[c.Name] = true
		if c.What == "" || c.Section == "" || (c.Severity != conformance.Error && c.Severity != conformance.Warning) {
			t.Errorf("incomplete check %+v", c)
		}
	}
	for _, r := range jwt.Rules {
		if !seen[r.Name] {
			t.Errorf("jwt rule %s missing from the table", r.Name)
		}
	}
}

// TestChecksAnswers: every error check says how strict mode answers it,
// completely; warnings are never answered.
func TestChecksAnswers(t *testing.T) {
	t.Parallel()
	bys := []string{conformance.BySandbox, conformance.ByPDS, conformance.BySDS, conformance.BySSP, conformance.ByProvider}
	shapes := []journal.Party{journal.PDS, journal.SDS, journal.SSP, journal.Provider}
	for _, c := range conformance.Checks {
		a := c.Answer
		if c.Severity == conformance.Warning {
			assert.Equal(t, c.Answered(), false, c.Name+" answered")
			assert.DeepEqual(t, a, conformance.Answer{}, c.Name+" answer")
			continue
		}
		if a.By == "" && a.Note != "" && a.Status == 0 {
			continue // an error no one refuses, saying why (FHIR_IF_MATCH_SENT)
		}
		if !c.Answered() || !slices.Contains(bys, a.By) || !slices.Contains(shapes, a.Shape) ||
			a.Status < 400 || a.Issue == "" || a.Code == "" || a.Display == "" {
			t.Errorf("incomplete answer for %s: %+v", c.Name, a)
		}
		if a.By == conformance.BySandbox && a.Shape != journal.SSP {
			// internal/sandbox writes its refusals with the SSP's writer alone.
			t.Errorf("%s: the sandbox answers only in the SSP's shape, got %s", c.Name, a.Shape)
		}
		if a.Shape == journal.SSP && a.Code != a.Display {
			t.Errorf("%s: the SSP's code is its display, got %q and %q", c.Name, a.Code, a.Display)
		}
	}
	// The one the sandbox answers itself, SDS's parameters (its own words
	// since issue 10), and the JWT rule the SSP answers.
	for name, want := range map[string]conformance.Answer{
		conformance.JourneyTraceIDReused: {By: conformance.BySandbox, Shape: journal.SSP, Status: 400, Issue: "invalid", Code: "REUSED_HEADER_SSP-TRACEID", Display: "REUSED_HEADER_SSP-TRACEID"},
		conformance.SDSParameters:        {By: conformance.BySDS, Shape: journal.SDS, Status: 400, Issue: "required", Code: "BAD_REQUEST", Display: "Bad request"},
		jwt.RuleMissing:                  {By: conformance.BySSP, Shape: journal.SSP, Status: 400, Issue: "invalid", Code: "MISSING_HEADER_AUTHORIZATION", Display: "MISSING_HEADER_AUTHORIZATION"},
		jwt.RuleDeviceInvalid:            {By: conformance.ByProvider, Shape: journal.Provider, Status: 422, Issue: "invalid", Code: "INVALID_RESOURCE", Display: "Invalid validation of resource"},
	} {
		c, _ := conformance.Lookup(name)
		got := c.Answer
		got.Note = ""
		assert.DeepEqual(t, got, want, name)
	}
}

// TestRefusal: strict mode's refusal is the first failed verdict of a
// check the sandbox answers; passed verdicts, warnings and checks a mock
// enforces are left alone.
func TestRefusal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vs   []journal.Verdict
		want string // "" for none
	}{
		{"none", nil, ""},
		{"passed", []journal.Verdict{{Check: conformance.JourneyTraceIDReused, Passed: true}}, ""},
		{"mock enforces", []journal.Verdict{{Check: conformance.SSPTraceIDUUID}, {Check: jwt.RuleExpired}}, ""},
		{"warning", []journal.Verdict{{Check: conformance.JourneyBookWithoutFind}, {Check: conformance.AcceptFHIRJSON}}, ""},
		{"unknown check", []journal.Verdict{{Check: "SSP_TARGET_MATCHES_ENDPOINT"}}, ""},
		{"reused trace", []journal.Verdict{{Check: conformance.SSPTraceIDUUID}, {Check: conformance.JourneyTraceIDReused, Message: "m"}}, conformance.JourneyTraceIDReused},
		{"the SDS mock's own", []journal.Verdict{{Check: conformance.SDSParameters}, {Check: conformance.JourneyTraceIDReused}}, conformance.JourneyTraceIDReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, v, ok := conformance.Refusal(tt.vs)
			assert.Equal(t, ok, tt.want != "", "refused")
			assert.Equal(t, c.Name, tt.want, "check")
			assert.Equal(t, v.Check, tt.want, "verdict")
		})
	}
}

func TestScenarioProblems(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Load("s.yaml", []byte("name: s\nextends: builtin\nexpect:\n  checks:\n    pass: [JWT_EXPIRED, SSP_SENDER_AUTHORISED]\n    fire: [JOURNEY_TRACEID_REUSED, NOT_A_CHECK]\n"))
	assert.NilError(t, err)
	got := conformance.ScenarioProblems(sc)
	assert.DeepEqual(t, got, []scenario.Problem{{File: "s.yaml", Line: 6, Column: 36,
		Message: `expect.checks.fire[1]: unknown check "NOT_A_CHECK" (the names are in docs/conformance-checks.md)`}}, "problems")
	assert.Equal(t, len(conformance.ScenarioProblems(scenario.Default())), 0, "the built-in world expects nothing")
}

// TestFHIRRequest: the rules handed in give one verdict, failed with
// their status, code and diagnostics; an interaction without such rules,
// or no rules at all, gives none. (With the provider's own rules:
// internal/sandbox TestFHIRRequestWithProviderRules.)
func TestFHIRRequest(t *testing.T) {
	t.Parallel()
	req := func(in gpc.Interaction, target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header["Ssp-InteractionID"] = []string{string(in)}
		return r
	}
	rules := func(_ *http.Request, in gpc.Interaction, q url.Values, _ []byte) error {
		if q.Get("bad") != "" {
			return gpc.Errorf(gpc.InvalidParameter, "bad is %s", q.Get("bad"))
		}
		return nil
	}
	vs := conformance.FHIRRequest(req(gpc.SearchSlots, "/ssp/x/Slot?status=free"), nil, rules)
	assert.DeepEqual(t, names(vs), []string{"FHIR_SLOT_SEARCH_PARAMETERS"}, "checks")
	assert.DeepEqual(t, failed(vs), []string{}, "a valid search")

	vs = conformance.FHIRRequest(req(gpc.SearchSlots, "/ssp/x/Slot?bad=yes"), nil, rules)
	assert.DeepEqual(t, failed(vs), []string{"FHIR_SLOT_SEARCH_PARAMETERS"}, "a bad search")
	assert.Equal(t, vs[0].Message, "422 INVALID_PARAMETER: bad is yes", "message")
	assert.Equal(t, vs[0].Section, "gpconnect-1.6.md §4.1, §6.2", "section")

	assert.Equal(t, len(conformance.FHIRRequest(req(gpc.ReadMetadata, "/ssp/x/metadata?bad=yes"), nil, rules)), 0, "read metadata has no such rules")
	assert.Equal(t, len(conformance.FHIRRequest(req(gpc.SearchSlots, "/ssp/x/Slot?bad=yes"), nil, nil)), 0, "no rules handed in")

	// An amend or cancel is also judged on If-Match, apart from its body:
	// the provider processes one without it (no version check), so the
	// failure is the consumer's alone and no one refuses it.
	for _, in := range []gpc.Interaction{gpc.AmendAppointment, gpc.CancelAppointment} {
		r := req(in, "/ssp/x/Appointment/1")
		vs = conformance.FHIRRequest(r, nil, rules)
		assert.DeepEqual(t, failed(vs), []string{"FHIR_IF_MATCH_SENT"}, string(in)+" without If-Match")
		r.Header.Set("If-Match", `W/"1"`)
		vs = conformance.FHIRRequest(r, nil, rules)
		assert.DeepEqual(t, failed(vs), []string{}, string(in)+" with If-Match")
	}
	c, _ := conformance.Lookup(conformance.FHIRIfMatchSent)
	assert.Equal(t, c.Severity, conformance.Error, "severity")
	assert.Equal(t, c.Answered(), false, "answered in strict mode")
}

// TestJourneyTraceWindow: the reused-trace-id check remembers only the last
// window ids (FIFO), so its memory is bounded however long a session runs,
// and it still catches a reuse inside the window.
func TestJourneyTraceWindow(t *testing.T) {
	t.Parallel()
	const window = 100
	j := conformance.NewJourney(newWorld(t), window)
	observe := func(trace string) []string {
		r := httptest.NewRequest("GET", "/ssp/x", nil)
		r.Header["Ssp-TraceID"] = []string{trace}
		r.Header["Ssp-To"] = []string{providerASID}
		return failed(j.Observe(r, gpc.SearchPatient, practiceODS))
	}
	id := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	for i := range 10 * window {
		assert.DeepEqual(t, observe(id(i)), []string{}, "fresh id "+id(i))
		if got := j.TracesKept(); got > window {
			t.Fatalf("after %d ids the journey keeps %d, more than its window %d", i+1, got, window)
		}
	}
	assert.Equal(t, j.TracesKept(), window, "ids kept after many requests")
	tests := []struct {
		name  string
		trace string
		want  []string
	}{
		{"the newest id reused", id(10*window - 1), []string{"JOURNEY_TRACEID_REUSED"}},
		{"the oldest id still in the window reused", id(9 * window), []string{"JOURNEY_TRACEID_REUSED"}},
		{"an id older than the window is forgotten (documented)", id(0), []string{}},
	}
	for _, tt := range tests {
		assert.DeepEqual(t, observe(tt.trace), tt.want, tt.name)
	}
}

// TestFailuresAreJudgesFailures: Failures gives exactly the failed verdicts
// Judge gives, in order, over a journey whose requests fail each kind of
// check (header formats, JWT, interaction, Accept, FHIR rules, the
// journey's own), each judge following its own journey.
func TestFailuresAreJudgesFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rules := func(_ *http.Request, in gpc.Interaction, q url.Values, _ []byte) error {
		if q.Get("bad") != "" {
			return gpc.Errorf(gpc.InvalidParameter, "bad is %s", q.Get("bad"))
		}
		return nil
	}
	edits := []struct {
		in           gpc.Interaction
		method, path string
		edit         func(h http.Header, tok string) string
	}{
		{gpc.SearchSlots, "GET", "/Slot?status=free", nil},
		{gpc.SearchSlots, "GET", "/Slot?bad=yes", nil}, // the trace id again, and a FHIR rule
		{gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string {
			h["Ssp-TraceID"] = []string{"trace-1"}
			h["Ssp-From"] = []string{"12345"}
			delete(h, "Ssp-To")
			h.Set("Accept", "text/plain")
			return retimed(t, tok, 301)
		}},
		{gpc.SearchSlots, "GET", "/Slot", func(h http.Header, tok string) string {
			h["Ssp-TraceID"] = []string{gpc.NewUUID()}
			h["Ssp-InteractionID"] = []string{"urn:nhs:names:services:gpconnect:fhir:rest:read:nothing-1"}
			return ""
		}},
		{gpc.CreateAppointment, "POST", "/Appointment", func(h http.Header, tok string) string {
			h["Ssp-TraceID"] = []string{gpc.NewUUID()}
			h["Ssp-To"] = []string{"918999198994"}
			return tok
		}},
		{gpc.AmendAppointment, "PUT", "/Slot/1", func(h http.Header, tok string) string {
			h["Ssp-TraceID"] = []string{gpc.NewUUID()}
			return tok
		}},
		{gpc.SearchSlots, "OPTIONS", "/Slot", nil},
	}
	whole := conformance.NewSSPJudge("/ssp/", w, conformance.NewJourney(w, 0), rules)
	failures := conformance.NewSSPJudge("/ssp/", w, conformance.NewJourney(w, 0), rules)
	fired := map[string]bool{}
	for i, e := range edits {
		r := sspRequest(t, w, e.in, e.method, e.path, e.edit)
		var want []journal.Verdict
		for _, v := range whole.Judge(r, nil) {
			if !v.Passed {
				want = append(want, v)
				fired[v.Check] = true
			}
		}
		assert.DeepEqual(t, failures.Failures(r, nil), want, fmt.Sprintf("request %d's failures", i))
	}
	for _, name := range []string{"SSP_TRACEID_UUID", "SSP_FROM_ASID_FORMAT", "SSP_TO_ASID_FORMAT", "SSP_INTERACTION_KNOWN",
		"JWT_MISSING", "JWT_EXP_NOT_IAT_PLUS_300", "INTERACTION_MATCHES_REQUEST", "ACCEPT_FHIR_JSON", "FHIR_SLOT_SEARCH_PARAMETERS",
		"FHIR_IF_MATCH_SENT", "JOURNEY_TRACEID_REUSED", "JOURNEY_BOOK_WITHOUT_FIND_PATIENT", "JOURNEY_SSP_TO_NOT_FROM_SDS"} {
		if !fired[name] {
			t.Errorf("no request failed %s", name)
		}
	}
}

// TestInteractionIDsUnique: INTERACTION_MATCHES_REQUEST matches the
// request against the interaction's own entry (gpc.Lookup), which is
// gpc.ForRequest's answer only while no two entries share an id.
func TestInteractionIDsUnique(t *testing.T) {
	t.Parallel()
	seen := map[gpc.Interaction]bool{}
	for _, in := range gpc.Interactions {
		if seen[in.ID] {
			t.Errorf("interaction %s listed twice", in.ID)
		}
		seen[in.ID] = true
	}
}
