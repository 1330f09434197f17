package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/nsf/jsondiff"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

const (
	jsonType = "application/fhir+json;charset=utf-8"
	xmlType  = "application/fhir+xml;charset=utf-8"
)

// xmlRequest is one GP Connect request as JSON: the test sends it as it
// is and in XML.
type xmlRequest struct {
	method, path, body string
	header             map[string]string
}

// xmlInteractions has a successful request for every provider interaction,
// built in a fresh session of the built-in world (writes first book what
// they change).
var xmlInteractions = []struct {
	in      gpc.Interaction
	status  int
	resType string
	req     func(t *testing.T, e *env, ss *sandbox.Session) xmlRequest
}{
	{gpc.ReadMetadata, 200, "CapabilityStatement", get("/metadata")},
	{gpc.SearchPatient, 200, "Bundle", get("/Patient?identifier=" + url.QueryEscape(gpc.SystemNHSNumber+"|"+nhsBooked))},
	{gpc.ReadPatient, 200, "Patient", get("/Patient/1")},
	{gpc.RegisterPatient, 200, "Bundle", func(t *testing.T, _ *env, _ *sandbox.Session) xmlRequest {
		return xmlRequest{method: http.MethodPost, path: "/Patient/$gpc.registerpatient", body: registerBody()}
	}},
	{gpc.SearchPractitioner, 200, "Bundle", get("/Practitioner?identifier=" + url.QueryEscape(gpc.SystemSDSUserID+"|G8133401"))},
	{gpc.ReadPractitioner, 200, "Practitioner", get("/Practitioner/1")},
	{gpc.SearchOrganization, 200, "Bundle", get("/Organization?identifier=" + url.QueryEscape(gpc.SystemODSCode+"|"+practiceODS))},
	{gpc.ReadOrganization, 200, "Organization", get("/Organization/1")},
	{gpc.ReadLocation, 200, "Location", get("/Location/1")},
	{gpc.SearchSlots, 200, "Bundle", func(t *testing.T, _ *env, ss *sandbox.Session) xmlRequest {
		return xmlRequest{method: http.MethodGet, path: slotQuery(ss) + "&_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location"}
	}},
	{gpc.CreateAppointment, 201, "Appointment", func(t *testing.T, _ *env, ss *sandbox.Session) xmlRequest {
		return xmlRequest{method: http.MethodPost, path: "/Appointment", body: bookBody(t, ss, freeSlots(ss)[0])}
	}},
	{gpc.ReadAppointment, 200, "Appointment", func(t *testing.T, e *env, ss *sandbox.Session) xmlRequest {
		id, _ := booked(t, e, ss)
		return xmlRequest{method: http.MethodGet, path: "/Appointment/" + id}
	}},
	{gpc.AmendAppointment, 200, "Appointment", func(t *testing.T, e *env, ss *sandbox.Session) xmlRequest {
		id, a := booked(t, e, ss)
		a["description"] = "Amended in XML"
		a["comment"] = "Bring the letter & the <form>"
		return xmlRequest{method: http.MethodPut, path: "/Appointment/" + id, body: marshal(t, a), header: map[string]string{"If-Match": `W/"1"`}}
	}},
	{gpc.CancelAppointment, 200, "Appointment", func(t *testing.T, e *env, ss *sandbox.Session) xmlRequest {
		id, a := booked(t, e, ss)
		a["status"] = "cancelled"
		a["extension"] = append(a["extension"].([]any), map[string]any{"url": gpc.ExtCancellationReason, "valueString": "Feels better"})
		return xmlRequest{method: http.MethodPut, path: "/Appointment/" + id, body: marshal(t, a), header: map[string]string{"If-Match": `W/"1"`}}
	}},
	{gpc.SearchPatientAppts, 200, "Bundle", func(t *testing.T, e *env, ss *sandbox.Session) xmlRequest {
		booked(t, e, ss)
		now := ss.World.Now()
		return xmlRequest{method: http.MethodGet, path: "/Patient/1/Appointment?start=ge" + now.Format("2006-01-02") +
			"&start=le" + now.AddDate(0, 0, 14).Format("2006-01-02")}
	}},
}

func get(path string) func(*testing.T, *env, *sandbox.Session) xmlRequest {
	return func(*testing.T, *env, *sandbox.Session) xmlRequest {
		return xmlRequest{method: http.MethodGet, path: path}
	}
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// registerBody registers KILLEN Dean, on PDS at A20047 with no record.
func registerBody() string {
	return `{"resourceType":"Parameters","parameter":[{"name":"registerPatient","resource":{"resourceType":"Patient",` +
		`"meta":{"profile":["` + gpc.ProfilePatient + `"]},"identifier":[{"system":"` + gpc.SystemNHSNumber + `","value":"9733162043"}],` +
		`"name":[{"use":"official","family":"KILLEN","given":["Dean","Roger"],"prefix":["Mr"]}],"gender":"male","birthDate":"1955-05-27"}}]}`
}

// booked books the first free slot in JSON and returns the appointment's
// id and the booked Appointment.
func booked(t *testing.T, e *env, ss *sandbox.Session) (string, map[string]any) {
	t.Helper()
	r := e.book(t, ss, true, freeSlots(ss)[0])
	wantStatus(t, r, 201, "")
	var a map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	return a["id"].(string), a
}

// send sends rq for in through ss's SSP; toXML sends its body as FHIR
// XML; header and query are added (query to the path).
func send(t *testing.T, e *env, ss *sandbox.Session, in gpc.Interaction, rq xmlRequest, toXML bool, header map[string]string, query string) response {
	t.Helper()
	path := rq.path
	if query != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + query
	}
	body := rq.body
	if toXML && body != "" {
		x, err := fhirxml.JSONToXML([]byte(body))
		if err != nil {
			t.Fatalf("JSONToXML: %v", err)
		}
		body = string(x)
	}
	req := gpcRequest(t, ss, true, in, rq.method, path, body)
	if toXML {
		req.Header.Set("Content-Type", "application/fhir+xml;charset=utf-8")
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	return e.do(t, req)
}

// asJSON is an answer's body as JSON: an XML one converted.
func asJSON(t *testing.T, r response) []byte {
	t.Helper()
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/fhir+xml") {
		return r.body
	}
	j, err := fhirxml.XMLToJSON(r.body)
	if err != nil {
		t.Fatalf("the XML answer does not convert: %v\n%s", err, r.body)
	}
	return j
}

// volatile drops what differs between two sessions' answers to the same
// request: the time a resource was last updated.
func volatile(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	var walk func(any)
	walk = func(x any) {
		switch n := x.(type) {
		case map[string]any:
			delete(n, "lastUpdated")
			for _, y := range n {
				walk(y)
			}
		case []any:
			for _, y := range n {
				walk(y)
			}
		}
	}
	walk(v)
	return v
}

func sameAnswer(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := volatile(t, got), volatile(t, want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		opts := jsondiff.DefaultConsoleOptions()
		_, diff := jsondiff.Compare(gb, wb, &opts)
		t.Errorf("the XML answer, as JSON, differs from the JSON answer:\n%s", diff)
	}
}

// pinned is the built-in world with its clock pinned (a Monday morning),
// so two sessions answer the same request with the same times.
const pinned = "name: pinned\nextends: builtin\nnow: 2026-11-30T08:00:00+00:00\n"

// TestXMLThroughSSP: every provider interaction, through the SSP, answers
// in the format Accept or _format asks for (_format wins), takes an XML
// body where it takes one, and its XML answer is the JSON answer (the
// same request in a fresh session) converted.
func TestXMLThroughSSP(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	variants := []struct {
		name   string
		xmlIn  bool // the body in XML (writes only)
		header map[string]string
		query  string
		ctype  string
	}{
		{"Accept fhir+xml", false, map[string]string{"Accept": "application/fhir+xml"}, "", xmlType},
		{"_format=xml over Accept fhir+json", false, nil, "_format=xml", xmlType},
		{"_format=text/xml", false, map[string]string{"Accept": ""}, "_format=text%2Fxml", xmlType},
		{"_format=application/fhir+json over Accept fhir+xml", false, map[string]string{"Accept": "application/fhir+xml"}, "_format=application%2Ffhir%2Bjson", jsonType},
		{"XML body, Accept fhir+xml", true, map[string]string{"Accept": "application/fhir+xml"}, "", xmlType},
		{"XML body, Accept fhir+json", true, nil, "", jsonType},
		{"XML body, no Accept: the Content-Type's", true, map[string]string{"Accept": ""}, "", xmlType},
	}
	for _, ic := range xmlInteractions {
		write := ic.in == gpc.RegisterPatient || ic.in == gpc.CreateAppointment || ic.in == gpc.AmendAppointment || ic.in == gpc.CancelAppointment
		for _, v := range variants {
			if v.xmlIn && !write {
				continue
			}
			t.Run(ic.in.Name()+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				ss := e.session(t, pinned)
				rq := ic.req(t, e, ss)
				r := send(t, e, ss, ic.in, rq, v.xmlIn, v.header, v.query)
				if r.status != ic.status {
					t.Fatalf("status %d, want %d: %s", r.status, ic.status, asJSON(t, r))
				}
				assert.Equal(t, r.header.Get("Content-Type"), v.ctype, "Content-Type")
				assert.Equal(t, r.header.Get("Cache-Control"), "no-store", "Cache-Control")
				got := asJSON(t, r)
				rt, err := fhirxmlResourceType(got)
				assert.NilError(t, err)
				assert.Equal(t, rt, ic.resType, "resourceType")

				// The same request in JSON, in a fresh session.
				base := e.session(t, pinned)
				want := send(t, e, base, ic.in, ic.req(t, e, base), false, nil, "")
				assert.Equal(t, want.status, ic.status, "JSON status")
				assert.Equal(t, want.header.Get("Content-Type"), jsonType, "JSON Content-Type")
				sameAnswer(t, got, want.body)
			})
		}
	}
}

func fhirxmlResourceType(b []byte) (string, error) {
	var head struct{ ResourceType string }
	err := json.Unmarshal(b, &head)
	return head.ResourceType, err
}

// TestXMLErrors: every error answer follows the negotiated format — a
// GPConnect-OperationOutcome-1 in XML with the Spine code the JSON path
// gives, recorded in the journal with that code; an XML body is judged by
// the same rules as JSON; a format the provider does not write is 415 in
// JSON.
func TestXMLErrors(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	xmlAccept := map[string]string{"Accept": "application/fhir+xml"}
	bookEdit := func(edit func(a map[string]any)) func(*testing.T, *env, *sandbox.Session) xmlRequest {
		return func(t *testing.T, _ *env, ss *sandbox.Session) xmlRequest {
			var a map[string]any
			if err := json.Unmarshal([]byte(bookBody(t, ss, freeSlots(ss)[0])), &a); err != nil {
				t.Fatal(err)
			}
			edit(a)
			return xmlRequest{method: http.MethodPost, path: "/Appointment", body: marshal(t, a)}
		}
	}
	rawBook := func(body string) func(*testing.T, *env, *sandbox.Session) xmlRequest {
		return func(*testing.T, *env, *sandbox.Session) xmlRequest {
			return xmlRequest{method: http.MethodPost, path: "/Appointment", body: body}
		}
	}
	tests := []struct {
		name   string
		in     gpc.Interaction
		req    func(*testing.T, *env, *sandbox.Session) xmlRequest
		xmlIn  bool // convert the JSON body to XML
		rawXML bool // the body is sent as written, as XML
		header map[string]string
		query  string
		status int
		code   gpc.Code
		ctype  string
	}{
		{"unknown patient", gpc.ReadPatient, get("/Patient/404"), false, false, xmlAccept, "", 404, gpc.PatientNotFound, xmlType},
		{"unknown appointment, _format=xml", gpc.ReadAppointment, get("/Appointment/404"), false, false, nil, "_format=xml", 404, gpc.NoRecordFound, xmlType},
		{"bad NHS number", gpc.SearchPatient, get("/Patient?identifier=" + url.QueryEscape(gpc.SystemNHSNumber+"|9693632108")), false, false, xmlAccept, "", 400, gpc.InvalidNHSNumber, xmlType},
		{"slot search bad date", gpc.SearchSlots, get("/Slot?status=free&start=ge2026-13-40&end=le2026-12-02&_include=Slot:schedule"), false, false, xmlAccept, "", 422, gpc.InvalidParameter, xmlType},
		{"JWT for another audience (before negotiation)", gpc.ReadMetadata, get("/metadata"), false, false,
			map[string]string{"Accept": "application/fhir+xml", "Authorization": "Bearer e30.e30."}, "", 400, gpc.BadRequest, xmlType},
		{"XML booking without participants", gpc.CreateAppointment, bookEdit(func(a map[string]any) { delete(a, "participant") }), true, false, xmlAccept, "", 422, gpc.InvalidResource, xmlType},
		{"XML booking of an unknown slot", gpc.CreateAppointment, bookEdit(func(a map[string]any) { a["slot"] = []any{map[string]any{"reference": "Slot/99999"}} }), true, false, xmlAccept, "", 422, gpc.ReferenceNotFound, xmlType},
		{"XML booking with an element the profile forbids", gpc.CreateAppointment, bookEdit(func(a map[string]any) {
			a["reason"] = []any{map[string]any{"text": "cough"}}
		}), true, false, nil, "", 422, gpc.InvalidResource, jsonType},
		{"XML booking, minutesDuration not a number", gpc.CreateAppointment, bookEdit(func(a map[string]any) { a["minutesDuration"] = "fifteen" }), true, false, xmlAccept, "", 422, gpc.InvalidResource, xmlType},
		{"malformed XML body", gpc.CreateAppointment, rawBook(`<Appointment xmlns="http://hl7.org/fhir"><status value="booked"/>`), false, true, xmlAccept, "", 400, gpc.BadRequest, xmlType},
		{"XML body with a DTD", gpc.CreateAppointment, rawBook(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Appointment xmlns="http://hl7.org/fhir"><status value="&x;"/></Appointment>`), false, true, xmlAccept, "", 400, gpc.BadRequest, xmlType},
		{"XML body outside the FHIR namespace", gpc.CreateAppointment, rawBook(`<Appointment><status value="booked"/></Appointment>`), false, true, xmlAccept, "", 400, gpc.BadRequest, xmlType},
		{"XML body nested too deep", gpc.CreateAppointment, rawBook(`<Appointment xmlns="http://hl7.org/fhir">` + strings.Repeat(`<extension url="u">`, 100) + strings.Repeat(`</extension>`, 100) + `</Appointment>`), false, true, xmlAccept, "", 400, gpc.BadRequest, xmlType},
		{"JSON body sent as XML", gpc.CreateAppointment, bookEdit(func(map[string]any) {}), false, true, xmlAccept, "", 400, gpc.BadRequest, xmlType},
		{"unsupported _format: 415 in JSON", gpc.ReadMetadata, get("/metadata"), false, false, xmlAccept, "_format=html", 415, gpc.UnsupportedMediaType, jsonType},
		{"unsupported Accept: 415 in JSON", gpc.ReadMetadata, get("/metadata"), false, false, map[string]string{"Accept": "text/html"}, "", 415, gpc.UnsupportedMediaType, jsonType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ss := e.session(t, "")
			rq := tt.req(t, e, ss)
			r := send(t, e, ss, tt.in, rq, tt.xmlIn, tt.header, tt.query)
			if tt.rawXML {
				req := gpcRequest(t, ss, true, tt.in, rq.method, rq.path, rq.body)
				req.Header.Set("Content-Type", "application/fhir+xml")
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				r = e.do(t, req)
			}
			assert.Equal(t, r.header.Get("Content-Type"), tt.ctype, "Content-Type")
			body := asJSON(t, r)
			code, _ := gpc.SpineCode(body)
			if r.status != tt.status || code != string(tt.code) {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, code, tt.status, tt.code, body)
			}
			var oo gpc.OperationOutcome
			assert.NilError(t, json.Unmarshal(body, &oo))
			if oo.Meta == nil || len(oo.Meta.Profile) != 1 || oo.Meta.Profile[0] != gpc.ProfileOperationOutcome {
				t.Errorf("not a GPConnect-OperationOutcome-1: %s", body)
			}
			hop := consumerHop(t, ss)
			assert.Equal(t, hop.Status, tt.status, "journal status")
			assert.Equal(t, hop.Code, string(tt.code), "journal Spine code")
		})
	}
}

// TestXMLInjectedFault: a fault the scenario injects at the provider is
// answered with the provider's own writer, so in the format the request
// asked for: XML when it asked for XML, JSON otherwise.
func TestXMLInjectedFault(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, pinned+"faults:\n  - {hop: provider, interaction: read metadata, status: 500, spine_code: INTERNAL_SERVER_ERROR}\n")
	for _, tt := range []struct {
		accept, ctype string
	}{{"application/fhir+xml", xmlType}, {"application/fhir+json", jsonType}} {
		r := send(t, e, ss, gpc.ReadMetadata, xmlRequest{method: http.MethodGet, path: "/metadata"}, false, map[string]string{"Accept": tt.accept}, "")
		assert.Equal(t, r.header.Get("Content-Type"), tt.ctype, "Content-Type for Accept "+tt.accept)
		code, _ := gpc.SpineCode(asJSON(t, r))
		if r.status != 500 || code != string(gpc.InternalServerError) {
			t.Errorf("Accept %s: got %d %s, want 500 INTERNAL_SERVER_ERROR: %s", tt.accept, r.status, code, r.body)
		}
		assert.Equal(t, consumerHop(t, ss).Code, string(gpc.InternalServerError), "journal Spine code")
	}
}
