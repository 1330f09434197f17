package consumer

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestBookHappyPathCalls(t *testing.T) {
	t.Parallel()
	f := newFakeSpine(t)
	s := f.client(f.config()).NewSession()
	b, err := s.Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b.ODS, "A20047", "ODS")
	assert.Equal(t, b.Patient.ID, "1", "patient id")
	assert.Equal(t, b.Slot.ID, "11", "slot")
	assert.Equal(t, b.Appointment.ID(), "1", "appointment id")
	assert.Equal(t, b.Appointment.ETag, `W/"1"`, "etag")
	assert.Equal(t, b.Attempts, 1, "attempts")
	want := []string{
		"GET /pds/Patient/9693632109",
		"GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/metadata",
		"GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/Slot",
		"GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/Patient",
		"GET /sds/Endpoint", "GET /sds/Device", "POST ssp:/Appointment",
	}
	assert.DeepEqual(t, f.calls(), want, "calls")

	// A second booking in the session: only the slot search and the book.
	before := len(f.calls())
	b2, err := s.Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b2.Slot.ID, "12", "second slot")
	assert.DeepEqual(t, f.calls()[before:], []string{"GET ssp:/Slot", "POST ssp:/Appointment"}, "second booking calls")
}

// TestSSPRequestsPassProviderChecks checks every SSP request of a booking
// the way the provider does: the Ssp-* headers, and the JWT through
// jwt.Validate with zero violations.
func TestSSPRequestsPassProviderChecks(t *testing.T) {
	t.Parallel()
	f := newFakeSpine(t)
	delete(f.records, "9693632109") // include the register POST
	_, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	traceIDs := map[string]bool{}
	n := 0
	for _, r := range f.requests {
		p := r.URL.EscapedPath()
		if !strings.HasPrefix(p, "/ssp/") {
			switch {
			case strings.HasPrefix(p, "/pds/"):
				assert.Equal(t, uuidV4.MatchString(r.Header.Get("X-Request-ID")), true, "PDS X-Request-ID is a UUID v4")
			case strings.HasPrefix(p, "/sds/"):
				assert.Equal(t, uuidV4.MatchString(r.Header.Get("X-Correlation-Id")), true, "SDS X-Correlation-Id is a UUID v4")
				assert.Equal(t, r.Header.Get("apikey") != "", true, "SDS apikey")
			}
			continue
		}
		n++
		rest := strings.TrimPrefix(p, "/ssp/")
		i := strings.Index(rest, "/gpconnect") + len("/gpconnect")
		root, rel := rest[:i], rest[i:]
		assert.Equal(t, root, f.root("A20047"), "service root in the URL")
		ins := gpc.ForRequest(r.Method, rel)
		if len(ins) != 1 {
			t.Fatalf("%s %s matches %v", r.Method, rel, ins)
		}
		in, _ := gpc.Lookup(ins[0])
		assert.Equal(t, r.Header.Get("Ssp-InteractionID"), string(in.ID), "Ssp-InteractionID of "+rel)
		assert.Equal(t, r.Header.Get("Ssp-From"), "200000000115", "Ssp-From")
		assert.Equal(t, r.Header.Get("Ssp-To"), "918999198993", "Ssp-To")
		tid := r.Header.Get("Ssp-TraceID")
		assert.Equal(t, uuidV4.MatchString(tid), true, "Ssp-TraceID is a UUID v4")
		assert.Equal(t, traceIDs[tid], false, "Ssp-TraceID is fresh")
		traceIDs[tid] = true
		assert.Equal(t, r.Header.Get("Accept"), "application/fhir+json", "Accept")
		if r.Method == http.MethodPost {
			assert.Equal(t, r.Header.Get("Content-Type"), "application/fhir+json;charset=utf-8", "Content-Type")
		}
		vs := jwt.Validate(r.Header.Get("Authorization"), jwt.Expect{Audience: root, Scope: in.Scope, Now: f.now, CheckAudience: true})
		if len(vs) != 0 {
			t.Errorf("%s: JWT violations %v", in.Name, vs)
		}
	}
	assert.Equal(t, n, 5, "SSP requests (metadata, slots, find, register, book)")
}

func TestQueryEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"pipe", Query{{"identifier", "https://fhir.nhs.uk/Id/nhs-number|9693632109"}},
			"identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9693632109"},
		{"plus in an offset", Query{{"start", "ge2019-03-29T12:00:00+01:00"}}, "start=ge2019-03-29T12%3A00%3A00%2B01%3A00"},
		{"repeated names keep their order", Query{{"_include:recurse", "a"}, {"_include:recurse", "b"}},
			"_include%3Arecurse=a&_include%3Arecurse=b"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.q.Encode(), tt.want, "encoded")
		})
	}
}

func TestSlotSearchQuery(t *testing.T) {
	t.Parallel()
	f := newFakeSpine(t)
	s := f.client(f.config()).NewSession()
	from := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	_, err := s.SearchSlots(context.Background(), "A20047", from, from.AddDate(0, 0, 14))
	assert.NilError(t, err)
	last := f.requests[len(f.requests)-1]
	assert.Equal(t, last.URL.RawQuery,
		"status=free&start=ge2030-01-07&end=le2030-01-21&_include=Slot%3Aschedule"+
			"&_include%3Arecurse=Schedule%3Aactor%3APractitioner&_include%3Arecurse=Schedule%3Aactor%3ALocation"+
			"&_include%3Arecurse=Location%3AmanagingOrganization"+
			"&searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FSTU3%2FCodeSystem%2FGPConnect-OrganisationType-1%7Cgp-practice"+
			"&searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CA1001", "slot query")
}

func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		statuses  []int // answers in order; the last repeats
		wantTries int32
		wantErr   int // 0: success, else the status in the error
	}{
		{"503 then 200", http.MethodGet, []int{503, 200}, 2, 0},
		{"429 then 200", http.MethodGet, []int{429, 200}, 2, 0},
		{"never more than 3 tries", http.MethodGet, []int{503}, 3, 503},
		{"502 twice then 200", http.MethodGet, []int{502, 502, 200}, 3, 0},
		{"404 is not retried", http.MethodGet, []int{404}, 1, 404},
		{"POST is never retried", http.MethodPost, []int{503}, 1, 503},
		{"PUT is never retried", http.MethodPut, []int{503}, 1, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeSpine(t)
			var tries atomic.Int32
			f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
				n := int(tries.Add(1)) - 1
				st := tt.statuses[min(n, len(tt.statuses)-1)]
				if st == 200 {
					writeJSON(w, 200, fakeCapability)
				} else {
					writeJSON(w, st, providerOutcome(gpc.InternalServerError, "busy"))
				}
				return true
			}
			c := f.client(f.config())
			ep := &Endpoint{Address: f.root("A20047"), ASID: "918999198993", Interaction: gpc.ReadMetadata}
			call := c.sspCall("3a", ep, tt.method, "/metadata", nil, nil, nil)
			if tt.method != http.MethodGet {
				call.body = []byte(`{}`)
			}
			_, err := c.do(context.Background(), call)
			assert.Equal(t, tries.Load(), tt.wantTries, "tries")
			if tt.wantErr == 0 {
				assert.NilError(t, err)
				return
			}
			e, ok := AsError(err)
			assert.Equal(t, ok, true, "typed error")
			assert.Equal(t, e.Status, tt.wantErr, "status")
			assert.Equal(t, e.Hop, HopProvider, "hop")
			assert.Equal(t, e.Code, "INTERNAL_SERVER_ERROR", "code")
		})
	}
}

func TestRetryConnectionError(t *testing.T) {
	t.Parallel()
	f := newFakeSpine(t)
	cfg := f.config()
	var hops atomic.Int32
	cfg.Observer = func(h Hop) { hops.Add(1) }
	f.srv.Close() // nothing listens any more
	_, err := f.client(cfg).NewSession().Trace(context.Background(), "9693632109", false)
	assert.Equal(t, errors.Is(err, ErrTransport), true, "ErrTransport")
	e, _ := AsError(err)
	assert.Equal(t, e.Hop, HopPDS, "hop")
	assert.Equal(t, e.Step, "1a", "step")
	assert.Equal(t, hops.Load(), int32(3), "attempts observed")
}

func TestTraceOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		nhs             string
		patient         string // "" → no record (404)
		allowNoPractice bool
		wantKind        error
		wantStatus      int
		wantCode        string
		wantODS         string
		wantCalls       int
	}{
		{"registered practice", "9693632109", pdsPatient("9693632109", "9693632109", "A20047", "", "U", "01"), false, nil, 0, "", "A20047", 1},
		{"invalid number: no call", "9000000000", "", false, ErrInvalidNHSNumber, 0, "", "", 0},
		{"not found", "9111231130", "", false, ErrPatientNotFound, 404, "RESOURCE_NOT_FOUND", "", 1},
		{"deceased", "9000000009", pdsPatient("9000000009", "9000000009", "Y12345", "2010-10-22T00:00:00+00:00", "U", "01"), false, ErrDeceased, 200, "", "", 1},
		{"restricted", "9000000025", pdsPatient("9000000025", "9000000025", "", "", "R", "01"), false, ErrRestricted, 200, "", "", 1},
		{"restricted is fine with a target practice", "9000000025", pdsPatient("9000000025", "9000000025", "", "", "R", "01"), true, nil, 0, "", "", 1},
		{"no GP", "9000000033", pdsPatient("9000000033", "9000000033", "", "", "U", "01"), false, ErrNoPractice, 200, "", "", 1},
		{"unverified number", "9693632109", pdsPatient("9693632109", "9693632109", "A20047", "", "U", "02"), false, ErrUnverified, 200, "02", "", 1},
		{"no verification status is a warning", "9693632109", pdsPatient("9693632109", "9693632109", "A20047", "", "U", ""), false, nil, 0, "", "A20047", 1},
		{"superseded", "9733162043", pdsPatient("9693632109", "9693632109", "A20047", "", "U", "01"), false, nil, 0, "", "A20047", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeSpine(t)
			delete(f.pds, "9693632109")
			if tt.patient != "" {
				f.pds[tt.nhs] = tt.patient
			}
			tr, err := f.client(f.config()).NewSession().Trace(context.Background(), tt.nhs, tt.allowNoPractice)
			assert.Equal(t, len(f.calls()), tt.wantCalls, "calls")
			if tt.wantKind != nil {
				assert.Equal(t, errors.Is(err, tt.wantKind), true, "kind of "+errString(err))
				e, _ := AsError(err)
				assert.Equal(t, e.Hop, HopPDS, "hop")
				assert.Equal(t, e.Status, tt.wantStatus, "status")
				assert.Equal(t, e.Code, tt.wantCode, "code")
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, tr.ODS, tt.wantODS, "ODS")
			if tt.name == "superseded" {
				assert.Equal(t, tr.Superseded, true, "superseded")
				assert.Equal(t, tr.NHSNumber, "9693632109", "kept number")
			}
			if tt.name == "no verification status is a warning" {
				assert.Equal(t, len(tr.Warnings), 1, "warnings")
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestErrorsCarryHopStatusCode(t *testing.T) {
	t.Parallel()
	sspForbidden := `{"resourceType":"OperationOutcome","id":"x","issue":[{"severity":"error","code":"forbidden","details":{"coding":[{"system":"http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0","code":"403","display":"ASID_CHECK_FAILED_MESSAGESENDER_200000000115"}]},"diagnostics":"ASID_CHECK_FAILED_MESSAGESENDER_200000000115"}]}`
	tests := []struct {
		name       string
		status     int
		body       string
		wantHop    string
		wantStatus int
		wantCode   string
	}{
		{"SSP refuses the sender", 403, sspForbidden, HopSSP, 403, "ASID_CHECK_FAILED_MESSAGESENDER_200000000115"},
		{"SSP cannot reach the provider (bare 502)", 502, ``, HopSSP, 502, ""},
		{"provider error", 422, providerOutcome(gpc.InvalidResource, "bad"), HopProvider, 422, "INVALID_RESOURCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeSpine(t)
			f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
				if strings.HasPrefix(path, "/ssp/") {
					writeJSON(w, tt.status, tt.body)
					return true
				}
				return false
			}
			_, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
			e, ok := AsError(err)
			assert.Equal(t, ok, true, "typed error: "+errString(err))
			assert.Equal(t, e.Hop, tt.wantHop, "hop")
			assert.Equal(t, e.Step, "3a", "step")
			assert.Equal(t, e.Status, tt.wantStatus, "status")
			assert.Equal(t, e.Code, tt.wantCode, "code")
			assert.Equal(t, e.Interaction, string(gpc.ReadMetadata), "interaction")
		})
	}
}

func TestBookBranches(t *testing.T) {
	t.Parallel()
	t.Run("no record: register then book", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		delete(f.records, "9693632109")
		b, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, b.Patient.Registered, true, "registered")
		assert.Equal(t, b.Patient.ID, "100", "new id")
		calls := f.calls()
		assert.Equal(t, slices.Contains(calls, "POST ssp:/Patient/$gpc.registerpatient"), true, "register call")
		var reg string
		for i, r := range f.requests {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "registerpatient") {
				reg = string(f.bodies[i])
			}
		}
		assert.Contains(t, reg, `"name":"registerPatient"`, "parameter")
		assert.Contains(t, reg, `"use":"official","family":"Garton"`, "official name")
		assert.Contains(t, reg, gpc.ProfilePatient, "profile")
		assert.Equal(t, strings.Count(reg, `"system":"phone"`), 1, "one home phone")
	})
	t.Run("slot taken between search and book", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		var done atomic.Bool
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if r.Method == http.MethodPost && strings.HasSuffix(path, "/Appointment") && !done.Swap(true) {
				f.mu.Lock()
				f.booked["11"] = "other"
				f.mu.Unlock()
				writeJSON(w, 409, providerOutcome(gpc.DuplicateRejected, "taken"))
				return true
			}
			return false
		}
		b, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, b.Slot.ID, "12", "next slot")
		assert.Equal(t, b.Attempts, 2, "attempts")
		calls := f.calls()
		assert.DeepEqual(t, calls[len(calls)-3:], []string{"POST ssp:/Appointment", "GET ssp:/Slot", "POST ssp:/Appointment"}, "409 → search → book")
	})
	t.Run("every slot taken: bounded", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if r.Method == http.MethodPost && strings.HasSuffix(path, "/Appointment") {
				writeJSON(w, 409, providerOutcome(gpc.DuplicateRejected, "taken"))
				return true
			}
			return false
		}
		_, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109", MaxAttempts: 2})
		assert.Equal(t, errors.Is(err, ErrSlotTaken), true, "ErrSlotTaken: "+errString(err))
		e, _ := AsError(err)
		assert.Equal(t, e.Status, 409, "status")
		assert.Equal(t, e.Code, "DUPLICATE_REJECTED", "code")
		n := 0
		for _, c := range f.calls() {
			if c == "POST ssp:/Appointment" {
				n++
			}
		}
		assert.Equal(t, n, 2, "book calls")
	})
	t.Run("no slots in the first window", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.slots = []fakeSlot{{"31", "2030-01-30T09:00:00+00:00", "2030-01-30T09:15:00+00:00", "1"}}
		var starts []string // requests are sequential: the consumer waits for each
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if strings.HasSuffix(path, "/Slot") {
				starts = append(starts, r.URL.Query().Get("start")+".."+r.URL.Query().Get("end"))
				if r.URL.Query().Get("start") == "ge2030-01-07" {
					writeJSON(w, 200, `{"resourceType":"Bundle","type":"searchset"}`)
					return true
				}
			}
			return false
		}
		b, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, b.Slot.ID, "31", "slot")
		assert.DeepEqual(t, starts, []string{"ge2030-01-07..le2030-01-21", "ge2030-01-22..le2030-02-05"}, "windows")
	})
	t.Run("no slots at all", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.slots = nil
		_, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109", Windows: 2})
		assert.Equal(t, errors.Is(err, ErrNoSlots), true, "ErrNoSlots: "+errString(err))
		n := 0
		for _, c := range f.calls() {
			if c == "GET ssp:/Slot" {
				n++
			}
		}
		assert.Equal(t, n, 2, "slot searches")
	})
	t.Run("SDS without an endpoint", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.noSDS = true
		_, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.Equal(t, errors.Is(err, ErrNoEndpoint), true, "ErrNoEndpoint: "+errString(err))
		assert.Contains(t, errString(err), "A20047", "names the practice")
		assert.Contains(t, errString(err), string(gpc.ReadMetadata), "names the interaction")
	})
	t.Run("book timeout: reconciled, never re-posted", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		cfg := f.config()
		cfg.Timeout = 300 * time.Millisecond
		var done atomic.Bool
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if r.Method == http.MethodPost && strings.HasSuffix(path, "/Appointment") && !done.Swap(true) {
				f.provider(httptestRecorder(), r, "/Appointment", f.bodies[len(f.bodies)-1]) // books
				time.Sleep(600 * time.Millisecond)                                           // answers too late
				return true
			}
			return false
		}
		b, err := f.client(cfg).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, b.Reconciled, true, "reconciled")
		assert.Equal(t, b.Appointment.ID(), "1", "appointment")
		assert.Equal(t, len(f.appts), 1, "one booking")
		calls := f.calls()
		assert.DeepEqual(t, calls[len(calls)-4:], []string{"POST ssp:/Appointment", "GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/Patient/1/Appointment"}, "reconcile calls")
	})
	t.Run("book answered 504 by the SSP: reconciled, never re-posted", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		var done atomic.Bool
		f.override = func(w http.ResponseWriter, r *http.Request, path string) bool {
			if r.Method == http.MethodPost && strings.HasSuffix(path, "/Appointment") && !done.Swap(true) {
				f.provider(httptestRecorder(), r, "/Appointment", f.bodies[len(f.bodies)-1]) // books
				w.Header().Set("Content-Type", "application/fhir+json")
				w.WriteHeader(http.StatusGatewayTimeout) // but the SSP stopped waiting
				_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","id":"0b6a3c55-7d0e-4e4b-9d1f-2f1a7c9e3b10","issue":[{"severity":"error","code":"transient","details":{"coding":[{"system":"http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0","code":"504","display":"TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_x"}]},"diagnostics":"TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_x"}]}`))
				return true
			}
			return false
		}
		b, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"})
		assert.NilError(t, err)
		assert.Equal(t, b.Reconciled, true, "reconciled")
		assert.Equal(t, len(f.appts), 1, "one booking")
		calls := f.calls()
		assert.DeepEqual(t, calls[len(calls)-4:], []string{"POST ssp:/Appointment", "GET /sds/Endpoint", "GET /sds/Device", "GET ssp:/Patient/1/Appointment"}, "reconcile calls")
	})
	t.Run("another practice: PDS still traced", func(t *testing.T) {
		t.Parallel()
		f := newFakeSpine(t)
		f.pds["9000000025"] = pdsPatient("9000000025", "9000000025", "", "", "R", "01")
		b, err := f.client(f.config()).NewSession().Book(context.Background(), BookRequest{NHSNumber: "9000000025", ODS: "Y12345"})
		assert.NilError(t, err)
		assert.Equal(t, b.ODS, "Y12345", "ODS")
		assert.Equal(t, f.calls()[0], "GET /pds/Patient/9000000025", "traced first")
		assert.Equal(t, b.Patient.Registered, true, "registered at the other practice")
	})
}
