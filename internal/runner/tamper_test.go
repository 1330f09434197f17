package runner

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// seen is what the echo server received.
type seen struct {
	method, uri, body string
	header            http.Header
}

func echoServer(t *testing.T) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.RequestURI, string(b), r.Header.Clone()})
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ts.Close)
	return ts, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

const (
	testRoot   = "http://127.0.0.1:9/provider/A20047/STU3/1/gpconnect"
	jwtHeader  = `{"alg":"none","typ":"JWT"}`
	jwtClaims  = `{"aud":"http://x/","exp":1700000300,"iat":1700000000,"reason_for_request":"directcare","requesting_practitioner":{"id":"1","name":[{"family":"Sandbox"}]}}`
	bookBody   = `{"participant":[{"actor":"P"},{"actor":"L"}],"resourceType":"Appointment","status":"booked"}`
	firstTrace = "11111111-1111-4111-8111-111111111111"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// consumerRequest builds a request as the consumer sends it: to the SSP
// with the spec's header spelling, or to PDS/SDS.
func consumerRequest(t *testing.T, base, hop string) *http.Request {
	t.Helper()
	var r *http.Request
	switch hop {
	case "ssp-book":
		r = httptest.NewRequest(http.MethodPost, base+"/ssp/"+testRoot+"/Appointment", strings.NewReader(bookBody))
		r.Header["Ssp-InteractionID"] = []string{"urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1"}
		r.Header.Set("Content-Type", "application/fhir+json;charset=utf-8")
	case "ssp-slots":
		r = httptest.NewRequest(http.MethodGet, base+"/ssp/"+testRoot+"/Slot?status=free&start=ge2026-01-01&_include%3Arecurse=a&_include%3Arecurse=b", nil)
		r.Header["Ssp-InteractionID"] = []string{"urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"}
	case "ssp-appts":
		r = httptest.NewRequest(http.MethodGet, base+"/ssp/"+testRoot+"/Patient/2/Appointment?start=ge2026-01-01", nil)
		r.Header["Ssp-InteractionID"] = []string{"urn:nhs:names:services:gpconnect:fhir:rest:search:patient_appointments-1"}
	case "pds":
		r = httptest.NewRequest(http.MethodGet, base+"/pds/Patient/9693632109", nil)
		r.Header["X-Request-ID"] = []string{"r1"}
	case "sds":
		r = httptest.NewRequest(http.MethodGet, base+"/sds/Device?organization=x", nil)
	}
	if strings.HasPrefix(hop, "ssp") {
		r.Header["Ssp-TraceID"] = []string{firstTrace}
		r.Header["Ssp-From"] = []string{"200000000115"}
		r.Header["Ssp-To"] = []string{"918999198993"}
		r.Header.Set("Authorization", "Bearer "+b64(jwtHeader)+"."+b64(jwtClaims)+".")
	}
	r.RequestURI = ""
	return r
}

func tamperWith(t *testing.T, yaml string) []scenario.Tamper {
	t.Helper()
	sc, err := scenario.Load("t.yaml", []byte("name: t\nextends: builtin\nrun:\n  nhs_number: \"9693632109\"\n  tamper:\n"+yaml))
	assert.NilError(t, err)
	return sc.Run.Tamper
}

func TestTamperTransport(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tamper  string
		request string
		check   func(t *testing.T, s seen)
	}{
		{"method replaced", "    - {hop: ssp, method: DELETE}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.Equal(t, s.method, "DELETE", "method")
			assert.Equal(t, s.body, bookBody, "body untouched")
		}},
		{"service root replaced, FHIR path kept", "    - {hop: ssp, target: \"http://127.0.0.1:1/provider/X/STU3/1/gpconnect\"}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.Equal(t, s.uri, "/ssp/http://127.0.0.1:1/provider/X/STU3/1/gpconnect/Appointment", "uri")
		}},
		{"FHIR path replaced below a multi-segment interaction path", "    - {hop: ssp, path: /Patient/99/Appointment}\n", "ssp-appts", func(t *testing.T, s seen) {
			assert.Equal(t, s.uri, "/ssp/"+testRoot+"/Patient/99/Appointment?start=ge2026-01-01", "uri")
		}},
		{"pds path replaced below the base", "    - {hop: pds, path: /Patient/9000000009}\n", "pds", func(t *testing.T, s seen) {
			assert.Equal(t, s.uri, "/pds/Patient/9000000009", "uri")
		}},
		{"query set keeps its place, repeated set, del", "    - {hop: ssp, query: {set: {start: not-a-date, \"_include:recurse\": [x, y, z]}, del: [status]}}\n", "ssp-slots", func(t *testing.T, s seen) {
			assert.Equal(t, s.uri, "/ssp/"+testRoot+"/Slot?start=not-a-date&_include%3Arecurse=x&_include%3Arecurse=y&_include%3Arecurse=z", "uri")
		}},
		{"query set of a new parameter appends", "    - {hop: sds, query: {set: {extra: \"a b\"}}}\n", "sds", func(t *testing.T, s seen) {
			assert.Equal(t, s.uri, "/sds/Device?organization=x&extra=a+b", "uri")
		}},
		{"headers set replaces every spelling, del removes", "    - {hop: ssp, headers: {set: {ssp-to: \"999999999999\"}, del: [Ssp-TraceID]}}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.DeepEqual(t, s.header.Values("Ssp-To"), []string{"999999999999"}, "Ssp-To")
			assert.Equal(t, len(s.header.Values("Ssp-Traceid")), 0, "Ssp-TraceID deleted")
		}},
		{"content type", "    - {hop: ssp, content_type: text/plain}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.DeepEqual(t, s.header.Values("Content-Type"), []string{"text/plain"}, "content type")
		}},
		{"jwt claims, header and signature", "    - hop: ssp\n      jwt: {set: {aud: \"https://wrong.invalid/\", /requesting_practitioner/name/0/family: Other}, del: [reason_for_request], header: {alg: HS256}, signature: abc}\n", "ssp-book", func(t *testing.T, s seen) {
			want := "Bearer " + b64(`{"alg":"HS256","typ":"JWT"}`) + "." +
				b64(`{"aud":"https://wrong.invalid/","exp":1700000300,"iat":1700000000,"requesting_practitioner":{"id":"1","name":[{"family":"Other"}]}}`) + ".abc"
			assert.Equal(t, s.header.Get("Authorization"), want, "authorization")
		}},
		{"body pointer set, append and delete", "    - hop: ssp\n      body: {set: {/status: proposed, /participant/-: {actor: X}, /minutesDuration: 15}, del: [/participant/0]}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.Equal(t, s.body, `{"minutesDuration":15,"participant":[{"actor":"L"},{"actor":"X"}],"resourceType":"Appointment","status":"proposed"}`, "body")
			assert.Equal(t, s.header.Get("Content-Length"), strconv.Itoa(len(s.body)), "content length of the edited body")
		}},
		{"interaction narrows", "    - {hop: ssp, interaction: search free slots, method: HEAD}\n", "ssp-book", func(t *testing.T, s seen) {
			assert.Equal(t, s.method, "POST", "book untouched by a slot tamper")
		}},
		{"pds tamper leaves sds alone", "    - {hop: pds, interaction: retrieve, method: POST}\n", "sds", func(t *testing.T, s seen) {
			assert.Equal(t, s.method, "GET", "sds untouched")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts, got := echoServer(t)
			tr := newTamperer(ts.Client().Transport, ts.URL+"/pds", ts.URL+"/sds", ts.URL+"/ssp/", tamperWith(t, c.tamper))
			resp, err := tr.RoundTrip(consumerRequest(t, ts.URL, c.request))
			assert.NilError(t, err)
			resp.Body.Close()
			s := got()
			assert.Equal(t, len(s), 1, "requests")
			c.check(t, s[0])
		})
	}
}

func TestTamperTimesAndTraceReuse(t *testing.T) {
	t.Parallel()
	ts, got := echoServer(t)
	tr := newTamperer(ts.Client().Transport, ts.URL+"/pds", ts.URL+"/sds", ts.URL+"/ssp/",
		tamperWith(t, "    - {hop: ssp, interaction: book appointment, reuse_trace_id: true, times: 1}\n"))
	for i, hop := range []string{"ssp-slots", "ssp-book", "ssp-book"} {
		r := consumerRequest(t, ts.URL, hop)
		r.Header["Ssp-TraceID"] = []string{[]string{"aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002", "aaaaaaaa-0000-4000-8000-000000000003"}[i]}
		resp, err := tr.RoundTrip(r)
		assert.NilError(t, err)
		resp.Body.Close()
	}
	s := got()
	assert.Equal(t, s[0].header.Get("Ssp-TraceID"), "aaaaaaaa-0000-4000-8000-000000000001", "slots fresh")
	assert.Equal(t, s[1].header.Get("Ssp-TraceID"), "aaaaaaaa-0000-4000-8000-000000000001", "first book reuses the previous trace id")
	assert.Equal(t, s[2].header.Get("Ssp-TraceID"), "aaaaaaaa-0000-4000-8000-000000000003", "times: 1 — the second book is fresh")
	assert.NilError(t, tr.Err())
}

// TestTamperErrors: a tamper that cannot apply stops the request with a
// clear message (the runner reports it as a run failure), never a panic.
func TestTamperErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tamper, request, want string
	}{
		{"unknown body member", "    - {hop: ssp, body: {set: {/nope/x: 1}}}\n", "ssp-book", `run.tamper[0] on ssp book appointment: body: set /nope/x: no member "nope"`},
		{"index out of range", "    - {hop: ssp, body: {del: [/participant/5]}}\n", "ssp-book", "body: del /participant/5: index 5 is out of range (the array has 2 elements)"},
		{"pointer into a string", "    - {hop: ssp, body: {set: {/status/x: 1}}}\n", "ssp-book", `body: set /status/x: "x" is inside a string, which has no members`},
		{"body on a GET", "    - {hop: ssp, body: {set: {/a: 1}}}\n", "ssp-slots", "body: the request has no body to edit"},
		{"absent header deleted", "    - {hop: pds, headers: {del: [X-Missing]}}\n", "pds", "headers.del: the request has no X-Missing header"},
		{"absent query parameter deleted", "    - {hop: sds, query: {del: [nothere]}}\n", "sds", `query: del: the request has no "nothere" parameter`},
		{"jwt claim absent", "    - {hop: ssp, jwt: {del: [/requesting_practitioner/zz]}}\n", "ssp-book", `jwt: del /requesting_practitioner/zz: no member "zz"`},
		{"reuse with no earlier request", "    - {hop: ssp, reuse_trace_id: true}\n", "ssp-book", "reuse_trace_id: no earlier SSP request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts, got := echoServer(t)
			tr := newTamperer(ts.Client().Transport, ts.URL+"/pds", ts.URL+"/sds", ts.URL+"/ssp/", tamperWith(t, c.tamper))
			_, err := tr.RoundTrip(consumerRequest(t, ts.URL, c.request))
			if err == nil {
				t.Fatal("want an error")
			}
			assert.Contains(t, err.Error(), c.want, "error")
			assert.Contains(t, tr.Err().Error(), c.want, "Err")
			assert.Equal(t, len(got()), 0, "nothing sent")
		})
	}
}

func TestTamperThatNeverMatchedIsAnError(t *testing.T) {
	t.Parallel()
	ts, _ := echoServer(t)
	tr := newTamperer(ts.Client().Transport, ts.URL+"/pds", ts.URL+"/sds", ts.URL+"/ssp/",
		tamperWith(t, "    - {hop: ssp, interaction: cancel appointment, method: GET}\n"))
	resp, err := tr.RoundTrip(consumerRequest(t, ts.URL, "ssp-book"))
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, tr.Err().Error(), "run.tamper[0] (ssp cancel appointment) matched no request the consumer sent", "error")
}
