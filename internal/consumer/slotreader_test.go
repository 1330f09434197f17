package consumer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// richSlots is a slot searchset with every element the entry reader reads
// or checks present at least once: the entries' own elements, each
// value[x] of an extension and a nested extension, codings, displays,
// periods, a second service type, names of both shapes.
var richSlots = `{"resourceType":"Bundle","id":"b","type":"searchset","total":5,"link":[{"relation":"self","url":"http://x"}],"entry":[
 {"fullUrl":"urn:o","search":{"mode":"include"},"resource":{"resourceType":"Organization","id":"7","name":"Quarry Row",
  "identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A20047"}],"telecom":[{"system":"phone","value":"0113"}]}},
 {"fullUrl":"urn:s","resource":{"resourceType":"Schedule","id":"1","meta":{"versionId":"1","profile":["p"]},
  "extension":[{"url":"role","valueCodeableConcept":{"coding":[{"system":"s","code":"R0260","display":"GP"}]}}],
  "serviceCategory":{"coding":[{"system":"s","version":"1","code":"c","display":"d"}],"text":"General"},
  "actor":[{"reference":"Location/1","display":"Main"},{"reference":"Practitioner/1"}],"planningHorizon":{"start":"2030-01-01","end":"2030-02-01"}}},
 {"resource":{"resourceType":"Location","id":"1","name":"Main Surgery","address":{"line":["1 High St"]}}},
 {"resource":{"resourceType":"Practitioner","id":"1","name":[{"use":"official","family":"Castellan","given":["Meera"],"prefix":["Dr"],"period":{"start":"2000"}}]}},
 {"fullUrl":"urn:1","search":{"mode":"match"},"resource":{"resourceType":"Slot","id":"11","meta":{"versionId":"1"},
  "extension":[{"url":"other","valueString":"s","valueBoolean":true,"valueDateTime":"2030","valueReference":{"reference":"x/1","display":"d"},
    "valuePeriod":{"start":"a","end":"b"},"valueCodeableConcept":{"text":"t"},"valueCode":"Video","extension":[{"url":"inner","valueCode":"c"}]},
   {"url":"` + gpc.ExtDeliveryChannel + `","valueCode":"In-person"},{"url":"` + gpc.ExtDeliveryChannel + `","valueCode":"Telephone"}],
  "serviceType":[{"coding":[{"system":"s","code":"c"}],"text":"General Appointment"},{"text":"Second"}],
  "schedule":{"reference":"Schedule/1","display":"sch"},"status":"free","start":"2030-01-08T09:00:00+00:00","end":"2030-01-08T09:15:00+00:00"}},
 {"resource":{"resourceType":"Slot","id":"12","schedule":{"reference":"Schedule/1"},"status":"free","start":"2030-01-08T09:15:00+00:00","end":"2030-01-08T09:30:00+00:00"}}
]}`

// readBoth reads doc with parseSlots and with the struct decoding it
// replaced (v2ParseSlots), and reports how they differ, or "".
func readBoth(doc []byte) string {
	got, err1 := parseSlots(doc)
	want, err2 := v2ParseSlots(doc)
	if (err1 == nil) != (err2 == nil) {
		return fmt.Sprintf("error %v, v2 %v", err1, err2)
	}
	if err1 != nil {
		return ""
	}
	g, w := slotsText(got), slotsText(want)
	if g != w {
		return fmt.Sprintf("read\n%s\nv2 read\n%s", g, w)
	}
	return ""
}

// slotsText is everything s holds, as text.
func slotsText(s *Slots) string {
	org, _ := json.Marshal(s.Organization)
	var b strings.Builder
	for _, x := range s.Slots {
		fmt.Fprintf(&b, "%+v\n", x)
	}
	return b.String() + string(org)
}

// spans are the byte ranges of doc's values and of its member names.
func spans(t testing.TB, doc []byte) (values, names [][2]int) {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(doc))
	var open []int
	for {
		kind, n := dec.StackIndex(dec.StackDepth())
		isName := kind == '{' && n%2 == 0
		pos := int(dec.InputOffset())
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return values, names
		}
		if err != nil {
			t.Fatal(err)
		}
		for strings.IndexByte(" \t\r\n,:", doc[pos]) >= 0 {
			pos++
		}
		end := int(dec.InputOffset())
		switch k := tok.Kind(); {
		case isName && k != '}':
			names = append(names, [2]int{pos, end})
		case k == '{' || k == '[':
			open = append(open, pos)
		case k == '}' || k == ']':
			values = append(values, [2]int{open[len(open)-1], end})
			open = open[:len(open)-1]
		default:
			values = append(values, [2]int{pos, end})
		}
	}
}

func splice(doc []byte, at [2]int, with string) []byte {
	return append(append(append([]byte{}, doc[:at[0]]...), with...), doc[at[1]:]...)
}

// TestSlotReaderLikeV2: the entry reader reads what the struct decoding
// it replaced read, and fails and skips where that did — for the sandbox's
// own answers, and for every element of richSlots in turn replaced by a
// value of each JSON kind, and every member name in turn spelt in another
// case, escaped, or as another member's.
func TestSlotReaderLikeV2(t *testing.T) {
	t.Parallel()
	a := journeyAnswers(t)
	for name, doc := range map[string][]byte{"sandbox": a["Slot"], "synthetic": syntheticSlots(t), "rich": []byte(richSlots)} {
		if d := readBoth(doc); d != "" {
			t.Errorf("%s answer: %s", name, d)
		}
	}
	doc := []byte(richSlots)
	s, err := parseSlots(doc)
	if err != nil || len(s.Slots) != 2 || s.Slots[0].Channel != "In-person" || s.Slots[0].SlotType != "General Appointment" ||
		s.Slots[0].Practitioner != "Dr Meera Castellan" || s.Organization == nil {
		t.Fatalf("rich answer: %+v %v", s, err)
	}
	values, names := spans(t, doc)
	kinds := []string{`5`, `true`, `null`, `"x"`, `"Slot"`, `{}`, `[]`, `[5]`, `["x"]`, `{"a":1}`, `[{"text":"T"}]`, `{"reference":"Schedule/1"}`}
	differ, failed, skipped := 0, 0, 0
	for _, at := range values {
		for _, k := range kinds {
			m := splice(doc, at, k)
			if d := readBoth(m); d != "" {
				differ++
				if differ <= 10 {
					t.Errorf("%s → %s:\n%s", doc[at[0]:at[1]], k, d)
				}
				continue
			}
			if s, err := parseSlots(m); err != nil {
				failed++
			} else if len(s.Slots) < 2 {
				skipped++
			}
		}
	}
	for _, at := range names {
		n := string(doc[at[0]+1 : at[1]-1])
		for _, spelt := range []string{
			`"` + strings.ToUpper(n[:1]) + n[1:] + `"`,   // another case: an unknown member
			fmt.Sprintf(`"\u%04x%s"`, n[0], n[1:]),       // escaped: the same name
			`"id"`, `"resource"`, `"url"`, `"reference"`, // perhaps a duplicate
		} {
			if d := readBoth(splice(doc, at, spelt)); d != "" {
				differ++
				if differ <= 10 {
					t.Errorf("name %s → %s:\n%s", n, spelt, d)
				}
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d variants read otherwise than v2 read them", differ, len(values)*len(kinds)+len(names)*6)
	}
	// The variants reach both ways an answer can go wrong: they are not
	// all read alike because none of them matters.
	if failed == 0 || skipped == 0 {
		t.Errorf("of %d variants, %d failed and %d lost a slot: the mutations reach too little", len(values)*len(kinds), failed, skipped)
	}
}

// FuzzSlotReaderLikeV2: any answer is read as the struct decoding read
// it. `go test -fuzz FuzzSlotReaderLikeV2 ./internal/consumer` explores;
// the seeds run with the tests.
func FuzzSlotReaderLikeV2(f *testing.F) {
	f.Add([]byte(richSlots))
	f.Add([]byte(slotEntries(slot("11", ""), slot("12", `,"serviceType":"Triage"`))))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[null,{"resource":null},{"fullUrl":null,"search":null}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Slot","extension":[{"extension":[{"extension":[5]}]}]}}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if d := readBoth(doc); d != "" {
			t.Errorf("%q: %s", doc, d)
		}
	})
}
