package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
)

func TestJournalOutcome(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	hop := func(s int, to journal.Party, name string, status int, code string) journal.Hop {
		h := journal.Hop{Time: at(s), From: journal.Consumer, To: to, Name: name, Interaction: name, Status: status, Code: code}
		// An SSP hop's interaction is the GP Connect ID the name is made of.
		for _, in := range gpc.Interactions {
			if string(to)+"."+in.ID.Name() == name {
				h.Interaction = string(in.ID)
			}
		}
		return h
	}
	tests := []struct {
		name string
		hops []journal.Hop
		want string
	}{
		{"nothing", nil, "none"},
		{"booked", []journal.Hop{hop(1, journal.PDS, "pds.retrieve", 200, ""), hop(2, journal.SSP, "ssp.book appointment", 201, "")}, "booked"},
		{"booked after a 409", []journal.Hop{hop(1, journal.SSP, "ssp.book appointment", 409, "DUPLICATE_REJECTED"), hop(2, journal.SSP, "ssp.book appointment", 201, "")}, "booked"},
		{"last error wins", []journal.Hop{hop(1, journal.SDS, "sds.endpoint", 503, "X"), hop(2, journal.SSP, "ssp.book appointment", 403, "ASID_CHECK_FAILED_MESSAGESENDER_200000000115")}, "error ssp 403 ASID_CHECK_FAILED_MESSAGESENDER_200000000115"},
		{"provider leg ignored", []journal.Hop{{Time: at(1), From: journal.SSP, To: journal.Provider, Name: "provider.book appointment", Status: 201}}, "none"},
		{"dropped connection", []journal.Hop{hop(1, journal.PDS, "pds.retrieve", 0, "")}, "error pds 0"},
		{"a failure retried with success is not the outcome", []journal.Hop{hop(1, journal.PDS, "pds.retrieve", 500, "X"), hop(2, journal.PDS, "pds.retrieve", 200, "")}, "none"},
		{"a failure followed by other successes still is", []journal.Hop{hop(1, journal.SDS, "sds.endpoint", 503, "X"), hop(2, journal.PDS, "pds.retrieve", 200, "")}, "error sds 503 X"},
		{"booked then cancelled", []journal.Hop{hop(1, journal.SSP, "ssp.book appointment", 201, ""), hop(2, journal.SSP, "ssp.cancel appointment", 200, "")}, "cancelled"},
		{"amended", []journal.Hop{hop(1, journal.SSP, "ssp.read appointment", 200, ""), hop(2, journal.SSP, "ssp.amend appointment", 200, "")}, "amended"},
		{"booked, then a second booking fails", []journal.Hop{hop(1, journal.SSP, "ssp.book appointment", 201, ""), hop(2, journal.SSP, "ssp.book appointment", 409, "DUPLICATE_REJECTED")}, "error ssp 409 DUPLICATE_REJECTED"},
		// The interaction tells what a request was, whatever the hop's name.
		{"told by the interaction", []journal.Hop{{Time: at(1), From: journal.Consumer, To: journal.SSP, Name: "ssp.unknown interaction", Interaction: string(gpc.CreateAppointment), Status: 201}}, "booked"},
		{"not by the name", []journal.Hop{{Time: at(1), From: journal.Consumer, To: journal.SSP, Name: "ssp.book appointment", Interaction: "urn:x", Status: 201}}, "none"},
		{"a failed cancel", []journal.Hop{hop(1, journal.SSP, "ssp.book appointment", 201, ""), hop(2, journal.SSP, "ssp.cancel appointment", 409, "FHIR_CONSTRAINT_VIOLATION")}, "error ssp 409 FHIR_CONSTRAINT_VIOLATION"},
	}
	for _, tt := range tests {
		assert.Equal(t, JournalOutcome(tt.hops).String(), tt.want, tt.name)
	}
}

// TestAdminVerdictForAnExternalConsumer drives a session the way an
// external consumer would (the consumer library over HTTP, nothing from the
// runner) and asks the admin API for the verdict, passing and failing.
func TestAdminVerdictForAnExternalConsumer(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, Verdict: AdminVerdict("")})
	assert.NilError(t, err)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)

	for _, tt := range []struct {
		name, expect, faults string
		passed               bool
		rule                 string
		faulted              []string // the hops the verdict says a fault applied to
	}{
		{"met", "outcome: booked", "", true, "", nil},
		{"not met", "outcome: {error: {hop: provider, status: 409}}", "", false, "outcome", nil},
		{"met through a fault", "outcome: booked", "faults:\n  - {hop: pds, interaction: retrieve, status: 503, times: 1}\n", true, "", []string{"pds.retrieve"}},
	} {
		yaml := "name: external " + tt.name + "\nextends: builtin\n" + tt.faults + "run: {consumer: external}\nexpect:\n  " + tt.expect + "\n"
		sc, err := scenario.Load("external.yaml", []byte(yaml))
		assert.NilError(t, err)
		ss, err := srv.CreateSession("", sc)
		assert.NilError(t, err)
		u := ss.URLs()
		c, err := consumer.New(consumer.Config{PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, ASID: "200000000115", Identity: jwt.Identity{
			Issuer: "https://external.invalid/", DeviceID: "ext", DeviceModel: "external", DeviceVersion: "1",
			OrgODS: "A1001", OrgName: "External", PractitionerID: "9", SDSUserID: "UNK", Family: "Ext", Given: []string{"E"},
		}})
		assert.NilError(t, err)
		_, err = c.NewSession().Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109", From: ss.World.Now().AddDate(0, 0, 1), Days: 7})
		assert.NilError(t, err)

		resp, err := http.Get(base + "/_admin/sessions/" + ss.ID + "/verdict")
		assert.NilError(t, err)
		var got VerdictJSON
		assert.NilError(t, json.NewDecoder(resp.Body).Decode(&got))
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, 200, tt.name+": status")
		assert.Equal(t, got.Outcome, "booked", tt.name+": outcome")
		assert.Equal(t, got.Passed, tt.passed, tt.name+": passed")
		var faulted []string
		for _, f := range got.Faults {
			faulted = append(faulted, f.Hop)
			assert.Contains(t, f.Fault, "503", tt.name+": the fault's description")
		}
		assert.DeepEqual(t, faulted, tt.faulted, tt.name+": hops a fault applied to")
		if tt.rule != "" {
			if len(got.Failures) != 1 {
				t.Fatalf("%s: failures = %+v, want one", tt.name, got.Failures)
			}
			assert.Equal(t, got.Failures[0].Rule, tt.rule, tt.name+": rule")
		}
	}
}
