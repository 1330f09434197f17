package sandbox

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestSteps: each hop's arrow and reply in the seed diagram — the
// consumer's to the SSP ("a", "d") and the SSP's to the provider ("b",
// "c") for each interaction, the no-record branch's registration 5e–5h,
// every other interaction 7, PDS and SDS by their step names.
func TestSteps(t *testing.T) {
	for _, tt := range []struct {
		from       journal.Party
		name       string
		in         gpc.Interaction
		step, back string
	}{
		{journal.Consumer, string(scenario.StepPDSRetrieve), "", "1a", "1b"},
		{journal.Consumer, string(scenario.StepPDSSearch), "", "1a", "1b"},
		{journal.Consumer, string(scenario.StepSDSEndpoint), "", "2a", "2b"},
		{journal.Consumer, string(scenario.StepSDSDevice), "", "2c", "2d"},
		{journal.Consumer, "ssp.read metadata", gpc.ReadMetadata, "3a", "3d"},
		{journal.SSP, "provider.read metadata", gpc.ReadMetadata, "3b", "3c"},
		{journal.Consumer, "ssp.search free slots", gpc.SearchSlots, "4a", "4d"},
		{journal.SSP, "provider.search free slots", gpc.SearchSlots, "4b", "4c"},
		{journal.Consumer, "ssp.find patient", gpc.SearchPatient, "5a", "5d"},
		{journal.SSP, "provider.find patient", gpc.SearchPatient, "5b", "5c"},
		{journal.Consumer, "ssp.register patient", gpc.RegisterPatient, "5e", "5h"},
		{journal.SSP, "provider.register patient", gpc.RegisterPatient, "5f", "5g"},
		{journal.Consumer, "ssp.book appointment", gpc.CreateAppointment, "6a", "6d"},
		{journal.SSP, "provider.book appointment", gpc.CreateAppointment, "6b", "6c"},
		{journal.Consumer, "ssp.cancel appointment", gpc.CancelAppointment, "7a", "7d"},
		{journal.SSP, "provider.cancel appointment", gpc.CancelAppointment, "7b", "7c"},
		{journal.Consumer, "ssp.unknown", "", "7a", "7d"},
	} {
		step, back := steps(tt.from, journal.Provider, tt.name, tt.in)
		if step != tt.step || back != tt.back {
			t.Errorf("%s from %s: %s, %s; want %s, %s", tt.name, tt.from, step, back, tt.step, tt.back)
		}
	}
}
