package consumer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// answer makes f answer method requests whose path ends with suffix with a
// 2xx body (every other request as before).
func (f *fakeSpine) answer(method, suffix string, status int, body string) {
	f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
		if r.Method != method || !strings.HasSuffix(path, suffix) {
			return false
		}
		writeJSON(w, status, body)
		return true
	}
}

// badAt asserts err is a bad response of the provider at step.
func badAt(t *testing.T, err error, step string) {
	t.Helper()
	e, ok := AsError(err)
	assert.Equal(t, ok && errors.Is(err, ErrBadResponse), true, "ErrBadResponse: "+errString(err))
	if ok {
		assert.Equal(t, e.Hop+" "+e.Step, HopProvider+" "+step, "hop and step")
	}
}

// slotEntries is a slot searchset of the fake's schedule, location and
// practitioner with the given entries added.
func slotEntries(entries ...string) string {
	return `{"resourceType":"Bundle","type":"searchset","entry":[
	 {"resource":{"resourceType":"Schedule","id":"1","actor":[{"reference":"Location/1"},{"reference":"Practitioner/1"}]}},
	 {"resource":{"resourceType":"Location","id":"1","name":"Main Surgery"}},
	 {"resource":{"resourceType":"Practitioner","id":"1","name":[{"family":"Castellan","given":["Meera"],"prefix":["Dr"]}]}}` +
		strings.Join(append([]string{""}, entries...), ",\n") + `]}`
}

func slot(id, extra string) string {
	return `{"resource":{"resourceType":"Slot","id":"` + id + `","status":"free","start":"2030-01-08T09:00:00+00:00","end":"2030-01-08T09:15:00+00:00",
	 "schedule":{"reference":"Schedule/1"}` + extra + `}}`
}

// TestProviderAnswers: each STU3 answer the consumer reads, through HTTP —
// one of another resourceType or that does not decode is a bad response;
// a searchset entry that does not decode, is of another type or lacks what
// the consumer needs is skipped; encoding/json v2's stricter reading
// (decode.go) holds.
func TestProviderAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from, to := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 21, 0, 0, 0, 0, time.UTC)
	session := func(t *testing.T, method, suffix, body string) *Session {
		f := newFakeSpine(t)
		f.answer(method, suffix, 200, body)
		return f.client(f.config()).NewSession()
	}
	for _, c := range []struct{ name, body string }{
		{"another resource type", `{"resourceType":"OperationOutcome","issue":[]}`},
		{"no resource type", strings.Replace(fakeCapability, `"resourceType":"CapabilityStatement",`, "", 1)},
		{"an element that does not decode", strings.Replace(fakeCapability, `"mode":"server"`, `"mode":1`, 1)},
		{"resourceType spelt in another case", strings.Replace(fakeCapability, `"resourceType"`, `"ResourceType"`, 1)},
		{"a duplicate member", strings.Replace(fakeCapability, `"version":"1.6.0"`, `"version":"1.6.0","version":"1.5.0"`, 1)},
		{"invalid UTF-8", strings.Replace(fakeCapability, `"1.6.0"`, "\"1.6.\xff\"", 1)},
	} {
		t.Run("capability: "+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := session(t, http.MethodGet, "/metadata", c.body).Capability(ctx, "A20047")
			badAt(t, err, "3a")
		})
	}
	t.Run("capability without the registration operation", func(t *testing.T) {
		t.Parallel()
		_, err := session(t, http.MethodGet, "/metadata", strings.Replace(fakeCapability, `"gpc.registerpatient"`, `"gpc.other"`, 1)).Capability(ctx, "A20047")
		assert.Equal(t, errors.Is(err, ErrCapability), true, "ErrCapability: "+errString(err))
	})

	for _, c := range []struct{ name, body string }{
		{"another resource type", `{"resourceType":"Slot","id":"1"}`},
		{"a Bundle element that does not decode", strings.Replace(slotEntries(slot("11", "")), `"type":"searchset"`, `"type":["searchset"]`, 1)},
		{"not JSON", slotEntries(slot("11", "")) + "}"},
		{"a duplicate member in an entry", slotEntries(slot("11", ""), slot("13", `,"id":"13"`))},
		{"invalid UTF-8 in an entry", slotEntries(slot("11", ""), slot("13", ",\"comment\":\"\xff\""))},
		{"an entry's own element that does not decode", slotEntries(slot("11", ""), strings.Replace(slot("13", ""), `{"resource"`, `{"fullUrl":5,"resource"`, 1))},
		{"the same, its resource not decoding either", slotEntries(slot("11", ""), strings.Replace(slot("13", `,"serviceType":"Triage"`), `{"resource"`, `{"search":[],"resource"`, 1))},
	} {
		t.Run("slots: "+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := session(t, http.MethodGet, "/Slot", c.body).SearchSlots(ctx, "A20047", from, to)
			badAt(t, err, "4a")
		})
	}
	t.Run("slots: entries skipped", func(t *testing.T) {
		t.Parallel()
		s, err := session(t, http.MethodGet, "/Slot", slotEntries(
			slot("11", ""),
			slot("12", `,"serviceType":"Triage"`), // does not decode
			strings.Replace(slot("14", ""), `"resourceType"`, `"ResourceType"`, 1), // no resourceType
			strings.Replace(slot("15", ""), `"Slot"`, `"Appointment"`, 1),          // another type
			strings.Replace(slot("16", ""), `"schedule":{"reference":"Schedule/1"}`, `"comment":"no schedule"`, 1),
			strings.Replace(slot("17", ""), `"free"`, `"busy"`, 1),
			slot("18", `,"serviceType":[{"text":"Triage"}],"extension":[{"url":"`+gpc.ExtDeliveryChannel+`","valueCode":"Video"}]`),
		)).SearchSlots(ctx, "A20047", from, to)
		assert.NilError(t, err)
		var got []string
		for _, x := range s.Slots {
			got = append(got, x.ID+" "+x.LocationName+" "+x.Practitioner+" "+x.SlotType+" "+x.Channel)
		}
		assert.DeepEqual(t, got, []string{"11 Main Surgery Dr Meera Castellan  ", "18 Main Surgery Dr Meera Castellan Triage Video"}, "slots read")
	})
	t.Run("slots: each entry read on its own", func(t *testing.T) {
		t.Parallel()
		s, err := session(t, http.MethodGet, "/Slot", slotEntries(
			slot("18", `,"serviceType":[{"text":"Triage"}],"extension":[{"url":"`+gpc.ExtDeliveryChannel+`","valueCode":"Video"}]`),
			strings.Replace(slot("19", ""), "09:", "10:", 2),
		)).SearchSlots(ctx, "A20047", from, to)
		assert.NilError(t, err)
		var got []string
		for _, x := range s.Slots {
			got = append(got, x.ID+" "+x.SlotType+" "+x.Channel+" "+x.Start)
		}
		assert.DeepEqual(t, got, []string{"18 Triage Video 2030-01-08T09:00:00+00:00", "19   2030-01-08T10:00:00+00:00"}, "nothing carried over")
	})
	t.Run("slots: the organisation, in one pass and entry by entry", func(t *testing.T) {
		t.Parallel()
		org := `{"fullUrl":"urn:x","resource":{"resourceType":"Organization","id":"1","name":"Quarry Row","telecom":[{"system":"phone","value":"0113"}]}}`
		for _, c := range []struct {
			name, skipped, org, want string
		}{
			{"one pass", "", org, "Quarry Row 0113"},
			{"entry by entry", slot("12", `,"serviceType":"Triage"`) + ",", org, "Quarry Row 0113"},
			{"an organisation that does not decode", "", strings.Replace(org, `"id":"1"`, `"id":"1","active":"yes"`, 1), "none"},
		} {
			s, err := session(t, http.MethodGet, "/Slot", slotEntries(c.skipped+c.org, slot("11", ""))).SearchSlots(ctx, "A20047", from, to)
			assert.NilError(t, err)
			got := "none"
			if o := s.Organization; o != nil && len(o.Telecom) == 1 {
				got = o.Name + " " + o.Telecom[0].Value
			}
			assert.Equal(t, fmt.Sprint(len(s.Slots), " ", got), "1 "+c.want, c.name)
		}
	})
	t.Run("slots: names of another shape read as none", func(t *testing.T) {
		t.Parallel()
		body := strings.Replace(strings.Replace(slotEntries(slot("11", "")), `"name":"Main Surgery"`, `"name":["Main Surgery"]`, 1),
			`"prefix":["Dr"]}]`, `"prefix":["Dr"]},{"family":5}]`, 1)
		s, err := session(t, http.MethodGet, "/Slot", body).SearchSlots(ctx, "A20047", from, to)
		assert.NilError(t, err)
		assert.Equal(t, len(s.Slots), 1, "the slot is kept")
		assert.Equal(t, s.Slots[0].LocationID+" "+s.Slots[0].LocationName+"|"+s.Slots[0].PractitionerID+" "+s.Slots[0].Practitioner, "1 |1 ", "ids without names")
	})

	patients := `{"resourceType":"Bundle","type":"searchset","entry":[
	 {"resource":{"resourceType":"OperationOutcome","id":"9"}},
	 {"resource":{"resourceType":"Patient","id":"8","identifier":5}},
	 {"resource":{"resourceType":"Patient"}},
	 {"resource":{"resourceType":"Patient","id":"2"}}]}`
	t.Run("find patient: entries skipped", func(t *testing.T) {
		t.Parallel()
		p, err := session(t, http.MethodGet, "/Patient", patients).FindPatient(ctx, "A20047", "9693632109")
		assert.NilError(t, err)
		assert.Equal(t, p != nil && p.ID == "2", true, "the first Patient with an id that decodes")
	})
	for _, c := range []struct{ name, body string }{
		{"another resource type", `{"resourceType":"Patient","id":"2"}`},
		{"entries not a list", `{"resourceType":"Bundle","type":"searchset","entry":{}}`},
		{"a duplicate member in an entry", strings.Replace(patients, `"id":"2"`, `"id":"2","id":"3"`, 1)},
		{"not JSON", strings.Replace(patients, `"id":"2"`, `"id":"2",,`, 1)},
	} {
		t.Run("find patient: "+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := session(t, http.MethodGet, "/Patient", c.body).FindPatient(ctx, "A20047", "9693632109")
			badAt(t, err, "5a")
		})
	}

	appointment := `{"resourceType":"Appointment","id":"5","status":"booked","meta":{"versionId":"2"}}`
	t.Run("read appointment", func(t *testing.T) {
		t.Parallel()
		a, err := session(t, http.MethodGet, "/Appointment/5", appointment).ReadAppointment(ctx, "A20047", "5")
		assert.NilError(t, err)
		assert.Equal(t, a.ID()+" "+a.ETag, `5 W/"2"`, "id and version")
	})
	for _, c := range []struct{ name, body string }{
		{"another resource type", strings.Replace(appointment, `"Appointment"`, `"Patient"`, 1)},
		{"no id", strings.Replace(appointment, `"id":"5",`, "", 1)},
		{"an element that does not decode", strings.Replace(appointment, `"booked"`, `true`, 1)},
	} {
		t.Run("read appointment: "+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := session(t, http.MethodGet, "/Appointment/5", c.body).ReadAppointment(ctx, "A20047", "5")
			badAt(t, err, "read")
		})
	}
	t.Run("patient appointments: entries skipped", func(t *testing.T) {
		t.Parallel()
		as, err := session(t, http.MethodGet, "/Patient/1/Appointment", `{"resourceType":"Bundle","type":"searchset","entry":[
		 {"resource":{"resourceType":"Patient","id":"1"}},
		 {"resource":{"resourceType":"Appointment","id":"3","status":5}},
		 {"resource":`+appointment+`}]}`).PatientAppointments(ctx, "A20047", "1", from, to)
		assert.NilError(t, err)
		assert.Equal(t, len(as) == 1 && as[0].ID == "5", true, "the one Appointment that decodes")
	})
	t.Run("patient appointments: not a Bundle", func(t *testing.T) {
		t.Parallel()
		_, err := session(t, http.MethodGet, "/Patient/1/Appointment", appointment).PatientAppointments(ctx, "A20047", "1", from, to)
		badAt(t, err, "list")
	})
}

// TestR4SkipsExtensions: an SDS Endpoint's or Device's extensions are read
// past, not decoded — even ones that are not valid R4 — and the elements the
// consumer reads still are.
func TestR4SkipsExtensions(t *testing.T) {
	t.Parallel()
	ids := `"identifier":[{"system":"https://fhir.nhs.uk/Id/nhsSpineASID","value":"918999198738"}]`
	for _, ext := range []string{
		`[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId","valueReference":{"identifier":{"value":"urn:x"}}}]`,
		`5`, `[{"url":7,"valueReference":"not an object"}]`,
	} {
		d, err := decodeR4[r4Device]([]byte(`{"resourceType":"Device","extension":`+ext+`,`+ids+`}`), "Device")
		assert.NilError(t, err)
		assert.Equal(t, str(d.Identifier[0].Value), "918999198738", "the Device's ASID beside extension "+ext)
		e, err := decodeR4[r4Endpoint]([]byte(`{"resourceType":"Endpoint","address":"https://x.invalid/A","extension":`+ext+`,`+ids+`}`), "Endpoint")
		assert.NilError(t, err)
		assert.Equal(t, e.Address, "https://x.invalid/A", "the Endpoint's address beside extension "+ext)
	}
	_, err := decodeR4[r4Device]([]byte(`{"resourceType":"Device","extension":[,]}`), "Device")
	assert.Equal(t, err != nil, true, "an extension that is not JSON still fails the resource")
}
