package fhirxml_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/nsf/jsondiff"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
)

// sameJSON reports whether a and b are the same JSON value (numbers
// compared as written, object member order ignored), with a diff if not.
func sameJSON(t *testing.T, a, b []byte) (bool, string) {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		raw []byte
		v   *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(bytes.NewReader(p.raw))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, p.raw)
		}
	}
	if reflect.DeepEqual(x, y) {
		return true, ""
	}
	opts := jsondiff.DefaultConsoleOptions()
	_, diff := jsondiff.Compare(a, b, &opts)
	return false, diff
}

// roundTrip converts body to XML and back, failing t when either step
// fails or the XML is not one FHIR element.
func roundTrip(t *testing.T, body []byte) (xmlBody, back []byte) {
	t.Helper()
	x, err := fhirxml.JSONToXML(body)
	if err != nil {
		t.Fatalf("JSONToXML: %v", err)
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(x, &root); err != nil || root.XMLName.Space != fhirxml.Namespace {
		t.Fatalf("JSONToXML wrote %v in %q, err %v:\n%s", root.XMLName.Local, root.XMLName.Space, err, x)
	}
	j, err := fhirxml.XMLToJSON(x)
	if err != nil {
		t.Fatalf("XMLToJSON: %v\n%s", err, x)
	}
	return x, j
}

// TestRoundTripFixtures converts every GP Connect JSON fixture (STU3) to
// XML and back and wants the same JSON. PDS and SDS fixtures are FHIR R4,
// which internal/stu3 does not describe; the provider is the only service
// that speaks XML.
func TestRoundTripFixtures(t *testing.T) {
	t.Parallel()
	var files []string
	for _, dir := range []string{"gpconnect", "runner"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "fixtures", dir, "*.json"))
		if err != nil || len(m) == 0 {
			t.Fatalf("no fixtures in %s: %v", dir, err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			x, back := roundTrip(t, body)
			if ok, diff := sameJSON(t, back, body); !ok {
				t.Errorf("JSON → XML → JSON differs:\n%s\nXML:\n%s", diff, x)
			}
		})
	}
}

func TestJSONToXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, xml string
	}{
		{"primitives, order by definition, not by JSON",
			`{"gender":"male","resourceType":"Patient","active":true,"id":"1"}`,
			`<Patient xmlns="http://hl7.org/fhir"><id value="1"/><active value="true"/><gender value="male"/></Patient>`},
		{"repeating elements and a number",
			`{"resourceType":"Bundle","total":2,"type":"searchset","link":[{"relation":"self","url":"a"},{"relation":"next","url":"b"}]}`,
			`<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/><total value="2"/><link><relation value="self"/><url value="a"/></link><link><relation value="next"/><url value="b"/></link></Bundle>`},
		{"extension url is an attribute, datatype id too",
			`{"resourceType":"Slot","extension":[{"url":"http://x","valueCode":"In-person"}],"identifier":[{"id":"i1","value":"7"}]}`,
			`<Slot xmlns="http://hl7.org/fhir"><extension url="http://x"><valueCode value="In-person"/></extension><identifier id="i1"><value value="7"/></identifier></Slot>`},
		{"contained and entry resources are wrapped",
			`{"resourceType":"Appointment","contained":[{"resourceType":"Organization","id":"1","name":"A & B"}],"status":"booked"}`,
			`<Appointment xmlns="http://hl7.org/fhir"><contained><Organization><id value="1"/><name value="A &amp; B"/></Organization></contained><status value="booked"/></Appointment>`},
		{"_name siblings carry a primitive's id and extensions, null keeps array positions",
			`{"resourceType":"Patient","birthDate":"2001-01-01","_birthDate":{"id":"b","extension":[{"url":"u","valueString":"v"}]},"name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"e","valueCode":"c"}]}]}]}`,
			`<Patient xmlns="http://hl7.org/fhir"><name><given value="A"/><given><extension url="e"><valueCode value="c"/></extension></given></name><birthDate id="b" value="2001-01-01"><extension url="u"><valueString value="v"/></extension></birthDate></Patient>`},
		{"narrative div is XHTML",
			`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &lt; b<br/></p></div>"}}`,
			`<Patient xmlns="http://hl7.org/fhir"><text><div xmlns="http://www.w3.org/1999/xhtml"><p>a &lt; b<br></br></p></div><status value="generated"/></text></Patient>`},
		{"unknown elements after known ones, by shape",
			`{"resourceType":"Patient","maritalStatus":{"text":"M"},"gender":"male","multipleBirthBoolean":false}`,
			`<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><maritalStatus><text value="M"/></maritalStatus><multipleBirthBoolean value="false"/></Patient>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fhirxml.JSONToXML([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.xml {
				t.Errorf("JSONToXML(%s)\n got %s\nwant %s", tt.json, got, tt.xml)
			}
		})
	}
}

func TestXMLToJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, xml, json string
	}{
		{"kinds from the Go types: numbers, booleans, arrays of one",
			`<?xml version="1.0" encoding="UTF-8"?>
<Appointment xmlns="http://hl7.org/fhir">
  <!-- a comment -->
  <status value="booked"/>
  <minutesDuration value="15"/>
  <slot><reference value="Slot/1"/></slot>
</Appointment>`,
			`{"resourceType":"Appointment","status":"booked","minutesDuration":15,"slot":[{"reference":"Slot/1"}]}`},
		{"a value that does not fit its kind stays a string for the JSON reader",
			`<Appointment xmlns="http://hl7.org/fhir"><minutesDuration value="fifteen"/><extension url="u"><valueBoolean value="yes"/></extension></Appointment>`,
			`{"resourceType":"Appointment","minutesDuration":"fifteen","extension":[{"url":"u","valueBoolean":"yes"}]}`},
		{"a second 0..1 element becomes an array",
			`<Location xmlns="http://hl7.org/fhir"><name value="a"/><name value="b"/></Location>`,
			`{"resourceType":"Location","name":["a","b"]}`},
		{"unknown elements: one is single, two are an array, value attribute is a string",
			`<Patient xmlns="http://hl7.org/fhir"><maritalStatus><text value="M"/></maritalStatus><photo><url value="a"/></photo><photo><url value="b"/></photo><multipleBirthInteger value="2"/></Patient>`,
			`{"resourceType":"Patient","maritalStatus":{"text":"M"},"photo":[{"url":"a"},{"url":"b"}],"multipleBirthInteger":"2"}`},
		{"parameter resource",
			`<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="registerPatient"/><resource><Patient><id value="1"/></Patient></resource></parameter></Parameters>`,
			`{"resourceType":"Parameters","parameter":[{"name":"registerPatient","resource":{"resourceType":"Patient","id":"1"}}]}`},
		{"a prefixed FHIR namespace is the same namespace",
			`<f:Patient xmlns:f="http://hl7.org/fhir"><f:gender value="male"/></f:Patient>`,
			`{"resourceType":"Patient","gender":"male"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fhirxml.XMLToJSON([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if ok, diff := sameJSON(t, got, []byte(tt.json)); !ok {
				t.Errorf("XMLToJSON: %s\n%s", got, diff)
			}
		})
	}
}

func TestXMLToJSONRefuses(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<extension url=\"u\">", 70) + strings.Repeat("</extension>", 70)
	tests := []struct {
		name, xml, want string
	}{
		{"not XML", `{"resourceType":"Patient"}`, "not XML"},
		{"text before the root", `x<Patient xmlns="http://hl7.org/fhir"/>`, "not XML"},
		{"text after the root", `<Patient xmlns="http://hl7.org/fhir"/>x`, "text content"},
		{"nothing", ` `, "no root element"},
		{"unclosed", `<Patient xmlns="http://hl7.org/fhir"><gender value="male"/>`, "not well-formed"},
		{"no namespace", `<Patient><gender value="male"/></Patient>`, "not in the FHIR namespace"},
		{"child in another namespace", `<Patient xmlns="http://hl7.org/fhir"><x:gender xmlns:x="urn:x" value="male"/></Patient>`, "not in the FHIR namespace"},
		{"DTD with entities (billion laughs)", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Patient xmlns="http://hl7.org/fhir"><gender value="&lol2;"/></Patient>`, "DTD"},
		{"external entity", `<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><gender value="&xxe;"/></Patient>`, "DTD"},
		{"undeclared entity", `<Patient xmlns="http://hl7.org/fhir"><gender value="&xxe;"/></Patient>`, "not well-formed"},
		{"text content", `<Patient xmlns="http://hl7.org/fhir"><gender>male</gender></Patient>`, "text content"},
		{"unknown attribute", `<Patient xmlns="http://hl7.org/fhir"><gender value="male" lang="en"/></Patient>`, "attribute"},
		{"nesting", `<Patient xmlns="http://hl7.org/fhir">` + deep + `</Patient>`, "nested deeper"},
		{"nesting inside a div", `<Patient xmlns="http://hl7.org/fhir"><text><div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat("<b>", 70) + strings.Repeat("</b>", 70) + `</div></text></Patient>`, "nested deeper"},
		{"a megabyte of empty elements", `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat("<x/>", 250_000) + `</Patient>`, "more than 50000 elements"},
		{"two roots", `<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>`, "more than one root"},
		{"empty primitive", `<Patient xmlns="http://hl7.org/fhir"><gender/></Patient>`, "no value"},
		{"resource wrapper with two resources", `<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient/><Patient/></resource></entry></Bundle>`, "exactly one resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fhirxml.XMLToJSON([]byte(tt.xml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("XMLToJSON = %s, %v; want an error with %q", got, err, tt.want)
			}
		})
	}
}

func TestXMLToJSONNarrative(t *testing.T) {
	t.Parallel()
	in := `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Bill &amp; Ben</p></div></text></Patient>`
	got, err := fhirxml.XMLToJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Bill &amp; Ben</p></div>"}}`
	if ok, diff := sameJSON(t, got, []byte(want)); !ok {
		t.Errorf("XMLToJSON: %s\n%s", got, diff)
	}
}

// TestXMLToJSONMemoryBounded: the largest document the element limit lets
// through, and a megabyte body refused by it, each allocate a bounded
// amount (measured: about 27 MB and 16 MB), so a provider body — at most
// 1 MiB — cannot make the reader take memory without bound.
func TestXMLToJSONMemoryBounded(t *testing.T) {
	for _, tt := range []struct {
		elements int
		ok       bool
	}{{49_000, true}, {250_000, false}} {
		body := []byte(`<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat("<x/>", tt.elements) + `</Patient>`)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := fhirxml.XMLToJSON(body)
		runtime.ReadMemStats(&after)
		if (err == nil) != tt.ok {
			t.Errorf("%d elements: err %v, want ok=%v", tt.elements, err, tt.ok)
		}
		if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 64 {
			t.Errorf("%d elements (%d bytes): %d MB allocated, want at most 64", tt.elements, len(body), mb)
		}
	}
}
