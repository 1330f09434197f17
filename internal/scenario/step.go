package scenario

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Step names one hop of the journey in an expected sequence: the service,
// a dot, and what was asked of it ("pds.retrieve", "sds.endpoint",
// "provider.book appointment"). The runner names journal entries with the
// same words, so a sequence compares entry by entry.
type Step string

// The PDS and SDS steps (pds-sds-fhir.md §2.1, §3.1, §3.2). Faults at
// those hops name the part after the dot as their interaction.
const (
	StepPDSRetrieve Step = "pds.retrieve" // GET /Patient/{nhs}
	StepPDSSearch   Step = "pds.search"   // GET /Patient?...
	StepSDSEndpoint Step = "sds.endpoint" // GET /Endpoint?...
	StepSDSDevice   Step = "sds.device"   // GET /Device?...
	// The SDS LDAP searches (gpconnect-1.6.md §1.2a): the nhsMhs query
	// (endpoint, party key) and the nhsAs query (ASID).
	StepSDSLDAPMHS Step = "sds.ldap mhs"
	StepSDSLDAPAS  Step = "sds.ldap as"
)

// ProviderStep is the step of a GP Connect interaction reaching the
// provider through the SSP: "provider." and the interaction's short name.
func ProviderStep(in gpc.Interaction) Step {
	return Step("provider." + in.Name())
}

// Steps lists the whole vocabulary: the PDS and SDS steps, then one
// provider step per GP Connect interaction in gpconnect-1.6.md §1.6 order.
func Steps() []Step {
	out := []Step{StepPDSRetrieve, StepPDSSearch, StepSDSEndpoint, StepSDSDevice, StepSDSLDAPMHS, StepSDSLDAPAS}
	for _, in := range gpc.Interactions {
		out = append(out, ProviderStep(in.ID))
	}
	return out
}

// ParseStep returns the step s names, or false when s is not in Steps.
func ParseStep(s string) (Step, bool) {
	st := Step(strings.Join(strings.Fields(s), " "))
	if slices.Contains(Steps(), st) {
		return st, true
	}
	return "", false
}

func (x *Step) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a step")
	if !ok {
		return
	}
	st, ok := ParseStep(s)
	if !ok {
		d.errorf(n, "%s: unknown step %q (want pds.retrieve, pds.search, sds.endpoint, sds.device, sds.ldap mhs, sds.ldap as or provider.<interaction name> such as \"provider.book appointment\")", where, s)
		return
	}
	*x = st
}

// hopInteractions are the names a pds or sds fault may narrow itself to.
var hopInteractions = map[Hop][]string{
	HopPDS: {"retrieve", "search"},
	HopSDS: {"endpoint", "device", "ldap mhs", "ldap as"},
}
