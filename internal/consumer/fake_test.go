package consumer

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// fakeSpine is a small PDS + SDS + SSP + provider for unit tests: enough
// shape for the consumer, none of the sandbox's rules. Tests change its
// fields before use; requests are recorded.
type fakeSpine struct {
	t   *testing.T
	srv *httptest.Server
	now time.Time

	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte

	pds      map[string]string // NHS number → Patient JSON
	records  map[string]string // NHS number → provider patient id
	slots    []fakeSlot
	booked   map[string]string // slot id → appointment id
	appts    map[string]string // appointment id → JSON
	noSDS    bool
	override func(w http.ResponseWriter, r *http.Request, path string) bool // true: handled
}

type fakeSlot struct{ id, start, end, location string }

const fakeNow = "2030-01-07T08:00:00Z" // a Monday

func newFakeSpine(t *testing.T) *fakeSpine {
	now, _ := time.Parse(time.RFC3339, fakeNow)
	f := &fakeSpine{t: t, now: now, pds: map[string]string{}, records: map[string]string{}, booked: map[string]string{}, appts: map[string]string{}}
	f.pds["9693632109"] = pdsPatient("9693632109", "9693632109", "A20047", "", "U", "01")
	f.records["9693632109"] = "1"
	f.slots = []fakeSlot{
		{"11", "2030-01-08T09:00:00+00:00", "2030-01-08T09:15:00+00:00", "1"},
		{"12", "2030-01-08T09:15:00+00:00", "2030-01-08T09:30:00+00:00", "1"},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func pdsPatient(id, nhs, ods, deceased, security, verified string) string {
	gp := ""
	if ods != "" {
		gp = fmt.Sprintf(`,"generalPractitioner":[{"id":"x","type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":%q}}]`, ods)
	}
	dec := ""
	if deceased != "" {
		dec = fmt.Sprintf(`,"deceasedDateTime":%q`, deceased)
	}
	ext := ""
	if verified != "" {
		ext = fmt.Sprintf(`,"extension":[{"url":"%s","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus","code":%q}]}}]`, extVerificationStatus, verified)
	}
	return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":%q%s}],
	 "meta":{"versionId":"1","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":%q}]},
	 "name":[{"use":"usual","family":"Garton","given":["Bill"],"prefix":["Mr"]}],"gender":"male","birthDate":"1946-06-23",
	 "address":[{"use":"home","line":["14 Quarry Lane"],"city":"Leeds","postalCode":"LS6 4QT"}],
	 "telecom":[{"system":"phone","value":"01632 960101","use":"home"},{"system":"phone","value":"01632 960102","use":"home"}]%s%s}`,
		id, nhs, ext, security, dec, gp)
}

func (f *fakeSpine) root(ods string) string {
	return f.srv.URL + "/provider/" + ods + "/STU3/1/gpconnect"
}

func (f *fakeSpine) config() Config {
	return Config{
		PDS: f.srv.URL + "/pds", SDS: f.srv.URL + "/sds", SSP: f.srv.URL + "/ssp/", ASID: "200000000115",
		Identity: testIdentity(), Timeout: 2 * time.Second, Backoff: time.Millisecond,
		Now: func() time.Time { return f.now },
	}
}

func testIdentity() jwt.Identity {
	return jwt.Identity{Issuer: "https://consumer.test/", DeviceID: "dev-1", DeviceModel: "test", DeviceVersion: "1",
		OrgODS: "A1001", OrgName: "Test Consumer", PractitionerID: "10019", Family: "Jones", Given: []string{"Claire"}}
}

func (f *fakeSpine) client(cfg Config) *Client {
	f.t.Helper()
	c, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// calls lists "METHOD path" of every request, SSP calls as "METHOD ssp:path"
// relative to the service root.
func (f *fakeSpine) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		p := r.URL.EscapedPath()
		if rest, ok := strings.CutPrefix(p, "/ssp/"); ok {
			i := strings.Index(rest, "/gpconnect")
			p = "ssp:" + rest[i+len("/gpconnect"):]
		}
		out = append(out, r.Method+" "+p)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func providerOutcome(code gpc.Code, diag string) string {
	b, _ := json.Marshal(gpc.ProviderOutcome(gpc.Errorf(code, "%s", diag)))
	return string(b)
}

func (f *fakeSpine) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	path := r.URL.EscapedPath()
	if f.override != nil && f.override(w, r, path) {
		return
	}
	switch {
	case strings.HasPrefix(path, "/pds/Patient/"):
		nhs := strings.TrimPrefix(path, "/pds/Patient/")
		if p, ok := f.pds[nhs]; ok {
			writeJSON(w, 200, p)
			return
		}
		writeJSON(w, 404, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"not-found","details":{"coding":[{"system":"https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode","code":"RESOURCE_NOT_FOUND"}]}}]}`)
	case path == "/sds/Endpoint" || path == "/sds/Device":
		f.sds(w, r, path)
	case strings.HasPrefix(path, "/ssp/"):
		rest := strings.TrimPrefix(path, "/ssp/")
		i := strings.Index(rest, "/gpconnect")
		if i < 0 {
			writeJSON(w, 400, `{}`)
			return
		}
		f.provider(w, r, rest[i+len("/gpconnect"):], body)
	default:
		writeJSON(w, 404, `{}`)
	}
}

func (f *fakeSpine) sds(w http.ResponseWriter, r *http.Request, path string) {
	org := r.URL.Query().Get("organization")
	ods := strings.TrimPrefix(org, gpc.SystemODSCode+"|")
	if f.noSDS {
		writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}`)
		return
	}
	if path == "/sds/Endpoint" {
		writeJSON(w, 200, fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"Endpoint","address":%q,
		 "identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"%s-1"}]}}]}`, f.root(ods), ods))
		return
	}
	writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"Device",
	 "identifier":[{"system":"https://fhir.nhs.uk/Id/nhsSpineASID","value":"918999198993"}]}}]}`)
}

const fakeCapability = `{"resourceType":"CapabilityStatement","version":"1.6.0","fhirVersion":"3.0.1","rest":[{"mode":"server",
 "resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}]},{"type":"Slot","interaction":[{"code":"search-type"}]},
  {"type":"Appointment","interaction":[{"code":"read"},{"code":"create"},{"code":"update"},{"code":"search-type"}]}],
 "operation":[{"name":"gpc.registerpatient","definition":{"reference":"https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-RegisterPatient-Operation-1"}}]}]}`

func (f *fakeSpine) provider(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case path == "/metadata":
		writeJSON(w, 200, fakeCapability)
	case path == "/Slot":
		var entries []string
		for _, s := range f.slots {
			if _, taken := f.booked[s.id]; taken {
				continue
			}
			entries = append(entries, fmt.Sprintf(`{"resource":{"resourceType":"Slot","id":%q,"status":"free","start":%q,"end":%q,"schedule":{"reference":"Schedule/%s"},
			 "extension":[{"url":%q,"valueCode":"In-person"}]}}`, s.id, s.start, s.end, s.location, gpc.ExtDeliveryChannel))
		}
		if len(entries) > 0 {
			entries = append(entries, `{"resource":{"resourceType":"Schedule","id":"1","actor":[{"reference":"Location/1"},{"reference":"Practitioner/1"}]}}`,
				`{"resource":{"resourceType":"Schedule","id":"2","actor":[{"reference":"Location/2"}]}}`,
				`{"resource":{"resourceType":"Location","id":"1","name":"Main Surgery"}}`,
				`{"resource":{"resourceType":"Practitioner","id":"1","name":[{"family":"Castellan","given":["Meera"],"prefix":["Dr"]}]}}`)
		}
		writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)
	case path == "/Patient":
		nhs := strings.TrimPrefix(r.URL.Query().Get("identifier"), gpc.SystemNHSNumber+"|")
		if id, ok := f.records[nhs]; ok {
			writeJSON(w, 200, fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":%q}}]}`, id))
			return
		}
		writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset"}`)
	case path == "/Patient/$gpc.registerpatient":
		id := fmt.Sprint(len(f.records) + 100)
		f.records["registered"] = id
		writeJSON(w, 200, fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":%q}}]}`, id))
	case path == "/Appointment" && r.Method == http.MethodPost:
		var a struct {
			Slot []struct{ Reference string } `json:"slot"`
		}
		_ = json.Unmarshal(body, &a)
		slot := strings.TrimPrefix(a.Slot[0].Reference, "Slot/")
		if _, taken := f.booked[slot]; taken {
			writeJSON(w, 409, providerOutcome(gpc.DuplicateRejected, "Slot "+slot+" is already booked"))
			return
		}
		id := fmt.Sprint(len(f.appts) + 1)
		f.booked[slot] = id
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["id"] = id
		m["meta"] = map[string]any{"versionId": "1"}
		out, _ := json.Marshal(m)
		f.appts[id] = string(out)
		w.Header().Set("ETag", `W/"1"`)
		writeJSON(w, 201, string(out))
	case strings.HasPrefix(path, "/Patient/") && strings.HasSuffix(path, "/Appointment"):
		var entries []string
		for _, a := range f.appts {
			entries = append(entries, `{"resource":`+a+`}`)
		}
		writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)
	default:
		writeJSON(w, 404, providerOutcome(gpc.NoRecordFound, "no route "+path))
	}
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
