package consumer

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestSearchPlan: the slot searches of a range, the one rule gpc-consumer
// and the runner share (gpconnect-1.6.md §4.1: at most 14 days a search).
func TestSearchPlan(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	now := time.Date(2030, 1, 7, 14, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to string
		days     int
		windows  int
		want     string
	}{
		{"default: four windows of 14 days from now", "", "", 0, 0,
			"2030-01-07..2030-01-21 2030-01-22..2030-02-05 2030-02-06..2030-02-20 2030-02-21..2030-03-07"},
		{"one window", "", "", 0, 1, "2030-01-07..2030-01-21"},
		{"days without to", "2030-01-08", "", 7, 2, "2030-01-08..2030-01-15 2030-01-16..2030-01-23"},
		{"days over 14 are 14", "2030-01-08", "", 30, 1, "2030-01-08..2030-01-22"},
		{"one week", "2030-01-08", "2030-01-15", 0, 0, "2030-01-08..2030-01-15"},
		{"one week and a further window", "2030-01-08", "2030-01-15", 0, 2, "2030-01-08..2030-01-15 2030-01-16..2030-01-23"},
		{"to from now counts calendar days", "", "2030-01-09", 0, 0, "2030-01-07..2030-01-09"},
		{"one day", "2030-01-08", "2030-01-08", 0, 0, "2030-01-08..2030-01-08"},
		{"four weeks is two windows, the last ending on to", "2030-01-07", "2030-02-04", 0, 0, "2030-01-07..2030-01-21 2030-01-22..2030-02-04"},
		{"twenty days: the second window clipped", "2030-01-07", "2030-01-27", 0, 0, "2030-01-07..2030-01-21 2030-01-22..2030-01-27"},
		{"fewer windows than the range needs: the range still", "2030-01-07", "2030-02-04", 0, 1, "2030-01-07..2030-01-21 2030-01-22..2030-02-04"},
		{"to before from: one day", "2030-01-08", "2030-01-01", 0, 0, "2030-01-08..2030-01-09"},
	}
	for _, tt := range tests {
		var from, to time.Time
		if tt.from != "" {
			from = day(tt.from)
		}
		if tt.to != "" {
			to = day(tt.to)
		}
		var got []string
		for _, w := range searchPlan(from, to, tt.days, tt.windows, now) {
			got = append(got, w.from.Format(time.DateOnly)+".."+w.to.Format(time.DateOnly))
			assert.Equal(t, daysBetween(w.from, w.to) <= MaxWindowDays, true, tt.name+": at most 14 days")
		}
		assert.Equal(t, strings.Join(got, " "), tt.want, tt.name)
	}
}

// TestDo: each action's requests, in order, against the fake Spine.
func TestDo(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, r Request) (*fakeSpine, *Result, error) {
		f := newFakeSpine(t)
		res, err := f.client(f.config()).NewSession().Do(context.Background(), r)
		return f, res, err
	}
	t.Run("slots: capability, then each window", func(t *testing.T) {
		t.Parallel()
		f, res, err := run(t, Request{Action: ActionSlots, NHSNumber: "9693632109", Windows: 2})
		assert.NilError(t, err)
		assert.Equal(t, res.ODS, "A20047", "practice from PDS")
		assert.Equal(t, len(res.Slots), 4, "slots (the fake answers every window with its two)")
		assert.DeepEqual(t, f.calls(), []string{"GET /pds/Patient/9693632109", "GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/metadata",
			"GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/Slot", "GET ssp:/Slot"}, "calls")
	})
	t.Run("appointments: the patient, then one search of 28 days", func(t *testing.T) {
		t.Parallel()
		f, res, err := run(t, Request{Action: ActionAppointments, NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, res.Patient.ID, "1", "patient")
		calls := f.calls()
		assert.Equal(t, calls[len(calls)-1], "GET ssp:/Patient/1/Appointment", "last call")
		q := f.requests[len(f.requests)-1].URL.Query()["start"]
		assert.DeepEqual(t, q, []string{"ge2030-01-07", "le2030-02-04"}, "range")
	})
	t.Run("appointments without a record", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		delete(f.records, "9693632109")
		_, err := f.client(f.config()).NewSession().Do(context.Background(), Request{Action: ActionAppointments, NHSNumber: "9693632109"})
		e, _ := AsError(err)
		assert.Equal(t, errors.Is(err, ErrNoRecord), true, "ErrNoRecord: "+errString(err))
		assert.Equal(t, e.Hop+" "+e.Step, "provider 5a", "where")
		assert.Equal(t, e.Status, 200, "status")
	})
	t.Run("unknown action", func(t *testing.T) {
		t.Parallel()
		_, _, err := run(t, Request{Action: "rebook"})
		assert.Equal(t, err != nil && strings.Contains(err.Error(), "unknown action"), true, "error: "+errString(err))
	})
	t.Run("cancel without a practice", func(t *testing.T) {
		t.Parallel()
		_, _, err := run(t, Request{Action: ActionCancel, AppointmentID: "1"})
		assert.Equal(t, err != nil && strings.Contains(err.Error(), "needs a practice"), true, "error: "+errString(err))
	})
}

// TestR4Answers: PDS and SDS answers are read with the R4 models, and
// their sharp edges (decodeR4) are covered: a resource of another type, a
// code outside its value set, an SDS entry that is not what was asked for.
func TestR4Answers(t *testing.T) {
	t.Parallel()
	trace := func(t *testing.T, body string) (*Trace, error) {
		f := newFakeSpine(t)
		f.pds["9693632109"] = body
		return f.client(f.config()).NewSession().Trace(context.Background(), "9693632109", false)
	}
	t.Run("the PDS patient", func(t *testing.T) {
		t.Parallel()
		tr, err := trace(t, pdsPatient("9693632109", "9693632109", "A20047", "", "U", "01"))
		assert.NilError(t, err)
		assert.Equal(t, tr.ODS, "A20047", "practice")
		assert.Equal(t, code(tr.Patient.Gender), "male", "gender")
		reg := registerPatient(tr)
		assert.Equal(t, reg.Name[0].Family+" "+reg.Address[0].City+" "+reg.BirthDate, "Garton Leeds 1946-06-23", "register demographics")
		assert.Equal(t, len(reg.Telecom), 1, "one home phone")
	})
	patient := pdsPatient("9693632109", "9693632109", "A20047", "", "U", "01")
	for _, c := range []struct{ name, body, want string }{
		{"another resource type", `{"resourceType":"OperationOutcome","issue":[]}`, "resourceType OperationOutcome, want Patient"},
		{"no resource type", `{"id":"9693632109"}`, "resourceType is missing"},
		{"a gender outside its value set", strings.Replace(patient, `"male"`, `"M"`, 1), "unknown AdministrativeGender code"},
		{"not JSON", `<Patient/>`, "not a JSON resource"},
		{"not an object", `["Patient"]`, "not a JSON resource"},
		// encoding/json v2's stricter reading (decode.go).
		{"resourceType spelt in another case", strings.Replace(patient, `"resourceType"`, `"ResourceType"`, 1), "resourceType is missing"},
		{"a duplicate member", strings.Replace(patient, `"gender":"male"`, `"gender":"male","gender":"female"`, 1), "duplicate object member"},
		{"invalid UTF-8", strings.Replace(patient, `"Garton"`, "\"Gar\xfften\"", 1), "invalid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := trace(t, c.body)
			assert.Equal(t, errors.Is(err, ErrBadResponse), true, "ErrBadResponse: "+errString(err))
			assert.Contains(t, errString(err), c.want, "why")
		})
	}
	t.Run("SDS entries of another type are skipped", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if path != "/sds/Endpoint" {
				return false
			}
			writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset","entry":[
			 {"resource":{"resourceType":"Device","address":"https://wrong.invalid/","identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"X-1"}]}},
			 {"resource":{"resourceType":"Endpoint","status":"no-such-status","address":"https://bad.invalid/","identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"X-2"}]}},
			 {"resource":{"ResourceType":"Endpoint","status":"active","address":"https://case.invalid/","identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"X-3"}]}},
			 {"resource":{"resourceType":"Endpoint","status":"active","address":"`+f.root("A20047")+`","identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"A20047-1"}]}}]}`)
			return true
		}
		ep, err := f.client(f.config()).NewSession().Endpoint(context.Background(), "A20047", "urn:x")
		assert.NilError(t, err)
		assert.Equal(t, ep.Address, f.root("A20047"), "the first Endpoint the models read")
		assert.Equal(t, ep.PartyKey+" "+ep.ASID, "A20047-1 918999198993", "party key and ASID")
	})
	t.Run("an SDS answer that is not a Bundle", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if path != "/sds/Device" {
				return false
			}
			writeJSON(w, 200, `{"resourceType":"Device"}`)
			return true
		}
		_, err := f.client(f.config()).NewSession().Endpoint(context.Background(), "A20047", "urn:x")
		assert.Equal(t, errors.Is(err, ErrBadResponse), true, "ErrBadResponse: "+errString(err))
	})
}
