package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// withFaults is the built-in world with the given faults section.
func withFaults(faults string) string {
	return "name: faults\nextends: builtin\nfaults:\n" + faults
}

// TestProviderFaultOnce: a provider fault answers its status and Spine
// code for book appointment only, once; the next booking goes through.
func TestProviderFaultOnce(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults(`  - hop: provider
    interaction: book appointment
    status: 409
    spine_code: DUPLICATE_REJECTED
    times: 1
`))
	// Another interaction is untouched.
	wantStatus(t, e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")
	slot := freeSlots(ss)[0]
	wantStatus(t, e.book(t, ss, true, slot), 409, string(gpc.DuplicateRejected))
	assert.Equal(t, slotBooked(ss, slot.ID), false, "the injected failure booked nothing")
	wantStatus(t, e.book(t, ss, true, slot), 201, "")
	assert.Equal(t, slotBooked(ss, slot.ID), true, "second try booked")

	hops := ss.Journal.Hops()
	assert.DeepEqual(t, hopSummary(hops), []string{
		"ssp→provider 4b provider.search free slots 200",
		"consumer→ssp 4a ssp.search free slots 200",
		"ssp→provider 6b provider.book appointment 409",
		"consumer→ssp 6a ssp.book appointment 409",
		"ssp→provider 6b provider.book appointment 201",
		"consumer→ssp 6a ssp.book appointment 201",
	}, "journal")
	assert.Equal(t, hops[2].Fault, "provider fault: status 409 DUPLICATE_REJECTED", "fault recorded")
	assert.Equal(t, hops[2].Code, string(gpc.DuplicateRejected), "code recorded")
	assert.Equal(t, hops[4].Fault, "", "no fault on the second booking")
}

// TestProviderFaultEveryTime: a fault without times answers every
// matching request, and a fault on one interaction spares the others.
func TestProviderFaultEveryTime(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: provider, interaction: book appointment, status: 500, spine_code: INTERNAL_SERVER_ERROR}\n"))
	slot := freeSlots(ss)[0]
	for range 3 {
		wantStatus(t, e.book(t, ss, false, slot), 500, string(gpc.InternalServerError))
	}
	assert.Equal(t, slotBooked(ss, slot.ID), false, "nothing booked")
	wantStatus(t, e.do(t, gpcRequest(t, ss, false, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")
}

// TestProviderDelay: a delay-only fault lets the booking happen and holds
// the answer back; the consumer that gives up leaves an appointment it
// never heard about.
func TestProviderDelay(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: provider, interaction: book appointment, delay: 5s}\n"))
	slot := freeSlots(ss)[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req := gpcRequest(t, ss, true, gpc.CreateAppointment, "POST", "/Appointment", bookBody(t, ss, slot)).WithContext(ctx)
	began := time.Now()
	res, err := e.client.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("the client got an answer (%d) despite the delay", res.StatusCode)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("the client waited %v", d)
	}
	assert.Equal(t, slotBooked(ss, slot.ID), true, "the booking was made")
	n := 0
	for _, a := range ss.World.Appointments(practiceODS) {
		if len(a.Slots) == 1 && a.Slots[0] == slot.ID {
			n++
		}
	}
	assert.Equal(t, n, 1, "appointments on the slot")
}

// TestProviderDelayAnswers: a short delay still answers, late.
func TestProviderDelayAnswers(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: provider, interaction: search free slots, delay: 200ms, times: 1}\n"))
	began := time.Now()
	wantStatus(t, e.do(t, gpcRequest(t, ss, false, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")
	if d := time.Since(began); d < 200*time.Millisecond {
		t.Errorf("answered after %v, before the delay", d)
	}
	hops := ss.Journal.Hops()
	assert.Equal(t, hops[0].Fault, "provider fault: delay 200ms", "fault recorded")
}

// TestSSPFault: the SSP answers the injected status in its own shape and
// never reaches the provider.
func TestSSPFault(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: ssp, status: 502}\n"))
	slot := freeSlots(ss)[0]
	// Without a spine_code the SSP says what it says for a 502 (§1.5).
	wantStatus(t, e.book(t, ss, true, slot), 502, "ERROR_COMMUNICATING_TO_ENDPOINT_URL_"+ss.URLs().Provider+"/A20047/STU3/1/gpconnect/Appointment")
	assert.Equal(t, slotBooked(ss, slot.ID), false, "nothing booked")
	assert.DeepEqual(t, hopSummary(ss.Journal.Hops()), []string{"consumer→ssp 6a ssp.book appointment 502"}, "journal")
	// The provider path itself is not faulted.
	wantStatus(t, e.book(t, ss, false, slot), 201, "")
}

// TestPDSDrop: a drop closes the connection without an answer.
func TestPDSDrop(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: pds, drop: true}\n"))
	res, err := e.client.Do(pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked))
	if err == nil {
		res.Body.Close()
		t.Fatalf("got an answer %d, want a closed connection", res.StatusCode)
	}
	hops := ss.Journal.Hops()
	if len(hops) != 1 {
		t.Fatalf("journal: %v", hopSummary(hops))
	}
	assert.Equal(t, hops[0].Error, "connection dropped", "hop error")
	assert.Equal(t, hops[0].Status, 0, "hop status")
	assert.Equal(t, hops[0].Fault, "pds fault: drop", "hop fault")
}

// TestSDSFaultEndpointOnly: a fault on sds endpoint leaves device alone.
func TestSDSFaultEndpointOnly(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: sds, interaction: endpoint, status: 503}\n"))
	q := url.Values{}
	q.Set("organization", gpc.SystemODSCode+"|"+practiceODS)
	q.Set("identifier", gpc.SystemInteractionID+"|"+string(gpc.SearchSlots))
	req := plain(t, "GET", ss.URLs().SDS+"/Endpoint?"+q.Encode(), "")
	const corr = "5d1f7a3e-2b6c-4e8a-9f0d-1c2b3a4d5e6f"
	req.Header.Set("X-Correlation-Id", corr)
	r := e.do(t, req)
	assert.Equal(t, r.status, 503, "endpoint: "+r.String())
	assert.Equal(t, r.code(), string(gpc.InternalServerError), "endpoint code")
	// In SDS's own shape (pds-sds-fhir.md §3.5): the OperationOutcome's id
	// is the correlation id, which is echoed.
	var oo struct{ ID string }
	assert.NilError(t, json.Unmarshal(r.body, &oo))
	assert.Equal(t, oo.ID, corr, "OperationOutcome id")
	assert.Equal(t, r.header.Get("X-Correlation-Id"), corr, "echoed correlation id")
	r = e.do(t, plain(t, "GET", ss.URLs().SDS+"/Device?"+q.Encode(), ""))
	assert.Equal(t, r.status, 200, "device: "+r.String())
	assert.Contains(t, string(r.body), providerASID, "device answer")
	got := strings.Join(hopSummary(ss.Journal.Hops()), "; ")
	assert.Equal(t, got, "consumer→sds 2a sds.endpoint 503; consumer→sds 2c sds.device 200", "journal")
}

// TestFaultDefaultCode: a fault with a status and no spine_code answers
// the code each service's error table gives that status, and
// INTERNAL_SERVER_ERROR where the table has none.
func TestFaultDefaultCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hop, interaction string
		status           int
		code             string
	}{
		{"provider", "search free slots", 404, "NO_RECORD_FOUND"},
		{"provider", "search free slots", 409, "DUPLICATE_REJECTED"},
		{"provider", "search free slots", 422, "INVALID_RESOURCE"},
		{"provider", "search free slots", 429, "INTERNAL_SERVER_ERROR"},
		{"provider", "search free slots", 500, "INTERNAL_SERVER_ERROR"},
		{"pds", "retrieve", 404, "RESOURCE_NOT_FOUND"},
		{"pds", "retrieve", 429, "TOO_MANY_REQUESTS"},
		{"pds", "retrieve", 503, "INTERNAL_SERVER_ERROR"},
		{"sds", "endpoint", 400, "BAD_REQUEST"},
		{"sds", "endpoint", 503, "INTERNAL_SERVER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.hop, tt.status), func(t *testing.T) {
			t.Parallel()
			e := start(t, sandbox.Config{})
			ss := e.session(t, withFaults(fmt.Sprintf("  - {hop: %s, interaction: %s, status: %d}\n", tt.hop, tt.interaction, tt.status)))
			var r response
			switch tt.hop {
			case "provider":
				r = e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), ""))
			case "pds":
				req := plain(t, "GET", ss.URLs().PDS+"/Patient/9693632109", "")
				req.Header.Set("X-Request-ID", gpc.NewUUID())
				r = e.do(t, req)
			case "sds":
				q := url.Values{}
				q.Set("organization", gpc.SystemODSCode+"|"+practiceODS)
				q.Set("identifier", gpc.SystemInteractionID+"|"+string(gpc.SearchSlots))
				r = e.do(t, plain(t, "GET", ss.URLs().SDS+"/Endpoint?"+q.Encode(), ""))
			}
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			assert.Equal(t, r.code(), tt.code, "code")
		})
	}
}

// TestFaultBodiesAreTheMocksOwn (issue 14): an injected error is written by
// the hop's mock with its own writer — the provider's with charset and
// Cache-Control as every provider answer, PDS's with PDS's display and
// severity for a code PDS answers with, and the code each service's table
// gives a status when the scenario names none.
func TestFaultBodiesAreTheMocksOwn(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults(`  - {hop: provider, interaction: search free slots, status: 409}
  - {hop: pds, status: 404}
  - {hop: sds, status: 406}
  - {hop: ssp, interaction: read metadata, status: 502}
`))
	r := e.do(t, gpcRequest(t, ss, false, gpc.SearchSlots, "GET", slotQuery(ss), ""))
	wantStatus(t, r, 409, string(gpc.DuplicateRejected))
	assert.Equal(t, r.header.Get("Content-Type"), "application/fhir+json;charset=utf-8", "provider fault's Content-Type")
	assert.Equal(t, r.header.Get("Cache-Control"), "no-store", "provider fault's Cache-Control")

	r = e.do(t, pdsRequest(nhsBooked, goodID)(t, e, ss))
	wantStatus(t, r, 404, "RESOURCE_NOT_FOUND")
	var oo gpc.OperationOutcome
	assert.NilError(t, json.Unmarshal(r.body, &oo))
	if len(oo.Issue) != 1 || oo.Issue[0].Details == nil || len(oo.Issue[0].Details.Coding) != 1 {
		t.Fatalf("PDS fault body: %s", r)
	}
	assert.Equal(t, oo.Issue[0].Details.Coding[0].Display, "Resource not found", "PDS's display")
	assert.Equal(t, oo.Issue[0].Code, "not-found", "PDS's issue type")
	assert.Equal(t, oo.Issue[0].Severity, "information", "PDS's severity for RESOURCE_NOT_FOUND")
	assert.Equal(t, oo.Issue[0].Details.Coding[0].Version, "1", "PDS's coding version")

	r = e.do(t, sdsRequest(endpointQuery(practiceODS), goodID)(t, e, ss))
	wantStatus(t, r, 406, "MISSING_OR_INVALID_HEADER")
	assert.Equal(t, r.header.Get("X-Correlation-Id"), goodID, "SDS's writer echoes the correlation id")

	r = e.do(t, gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 502, "SSP fault's status")
	assert.Contains(t, r.code(), "ERROR_COMMUNICATING_TO_ENDPOINT_URL_"+ss.Base+sandbox.ProviderPath+"/", "SSP's message names the target")
}
