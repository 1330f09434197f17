package conformance

import (
	"slices"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
)

// The checks on a consumer's LDAP searches of SDS (gpconnect-1.6.md §1.2a).
// They are warnings: Spine's directory answers any well-formed search with
// what it holds, so a filter that departs from §1.2a is never refused —
// it finds the wrong records, or none, which the journey then shows.
const (
	SDSLDAPBaseDN   = "SDS_LDAP_BASE_DN"
	SDSLDAPMHSQuery = "SDS_LDAP_MHS_QUERY"
	SDSLDAPASQuery  = "SDS_LDAP_AS_QUERY"
	SDSLDAPASAfter  = "SDS_LDAP_AS_AFTER_MHS"
)

// ldapChecks are appended to Checks (and so to docs/conformance-checks.md).
func ldapChecks() []Check {
	const section = "gpconnect-1.6.md §1.2a"
	return []Check{
		{SDSLDAPBaseDN, "an SDS LDAP search is based at ou=services, o=nhs", section, Warning, Answer{}},
		{SDSLDAPMHSQuery, "an nhsMhs search is (&(nhsIDCode=<ODS>)(objectClass=nhsMhs)(nhsMhsSvcIA=<GP Connect interaction>)) and asks for nhsMhsEndPoint and nhsMhsPartyKey (or every attribute)", section, Warning, Answer{}},
		{SDSLDAPASQuery, "an nhsAs search is (&(nhsIDCode=<ODS>)(objectClass=nhsAs)(nhsMhsPartyKey=<party key>)), or for the consumer's own ASID (&(nhsIDCode=<ODS>)(objectClass=nhsAs)(nhsAsSvcIA=<interaction>)(nhsMhsManufacturerOrg=<supplier ODS>)), and asks for uniqueIdentifier (or every attribute)", section, Warning, Answer{}},
		{SDSLDAPASAfter, "an nhsAs search by party key uses a party key an earlier nhsMhs search in the session returned (step 1, then step 2)", section, Warning, Answer{}},
	}
}

// LDAPQuery is what the checks read of one LDAP search.
type LDAPQuery struct {
	Base       string
	Filter     string // RFC 4515
	Attributes []string
	// PartyKeySeen reports whether an earlier MHS search in the session
	// returned key; nil skips SDS_LDAP_AS_AFTER_MHS.
	PartyKeySeen func(key string) bool
}

// LDAPSearch judges one LDAP search against §1.2a: its base, and for an
// nhsMhs or nhsAs search its filter, attributes and order.
func LDAPSearch(q LDAPQuery) []journal.Verdict {
	var out []journal.Verdict
	base, err := ldap.ParseDN(q.Base)
	want, _ := ldap.ParseDN("ou=services,o=nhs")
	if err == nil && base.EqualFold(want) {
		out = append(out, verdict(SDSLDAPBaseDN, true, ""))
	} else {
		out = append(out, verdict(SDSLDAPBaseDN, false, "base "+quote(q.Base)+", want 'ou=services, o=nhs'"))
	}
	terms, and := equalities(q.Filter)
	switch strings.ToLower(terms["objectclass"]) {
	case "nhsmhs":
		var problems []string
		if !and {
			problems = append(problems, "the filter is not one AND of equalities")
		}
		if terms["nhsidcode"] == "" {
			problems = append(problems, "no nhsIDCode")
		}
		if in := terms["nhsmhssvcia"]; !gpc.IsKnown(gpc.Interaction(in)) {
			problems = append(problems, "nhsMhsSvcIA "+quote(in)+" is not a GP Connect interaction")
		}
		if !asks(q.Attributes, "nhsMhsEndPoint", "nhsMhsPartyKey") {
			problems = append(problems, "attributes "+quote(strings.Join(q.Attributes, " "))+" lack nhsMhsEndPoint or nhsMhsPartyKey")
		}
		out = append(out, verdict(SDSLDAPMHSQuery, len(problems) == 0, strings.Join(problems, "; ")))
	case "nhsas":
		var problems []string
		byKey := terms["nhsmhspartykey"] != ""
		own := terms["nhsassvcia"] != "" && terms["nhsmhsmanufacturerorg"] != ""
		if !and {
			problems = append(problems, "the filter is not one AND of equalities")
		}
		if terms["nhsidcode"] == "" {
			problems = append(problems, "no nhsIDCode")
		}
		if !byKey && !own {
			problems = append(problems, "neither nhsMhsPartyKey nor nhsAsSvcIA with nhsMhsManufacturerOrg")
		}
		if !asks(q.Attributes, "uniqueIdentifier") {
			problems = append(problems, "attributes "+quote(strings.Join(q.Attributes, " "))+" lack uniqueIdentifier")
		}
		out = append(out, verdict(SDSLDAPASQuery, len(problems) == 0, strings.Join(problems, "; ")))
		if byKey && q.PartyKeySeen != nil {
			key := terms["nhsmhspartykey"]
			if q.PartyKeySeen(key) {
				out = append(out, verdict(SDSLDAPASAfter, true, ""))
			} else {
				out = append(out, verdict(SDSLDAPASAfter, false, "party key "+quote(key)+" came from no earlier nhsMhs search in the session"))
			}
		}
	}
	return out
}

// equalities returns the filter's equality terms (attribute names lower
// case, the first value of each) and whether the filter is one AND of
// equalities, as every §1.2a query is.
func equalities(filter string) (map[string]string, bool) {
	terms := map[string]string{}
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return terms, false
	}
	add := func(c *ber.Packet) bool {
		if c.Tag != ldap.FilterEqualityMatch || len(c.Children) != 2 {
			return false
		}
		name := strings.ToLower(c.Children[0].Data.String())
		if _, dup := terms[name]; !dup {
			terms[name] = c.Children[1].Data.String()
		}
		return true
	}
	if p.Tag != ldap.FilterAnd {
		return terms, false
	}
	and := true
	for _, c := range p.Children {
		and = add(c) && and
	}
	return terms, and
}

// asks reports whether a search for attrs returns every one of want: an
// empty list and "*" return all (RFC 4511 §4.5.1.8).
func asks(attrs []string, want ...string) bool {
	if len(attrs) == 0 || slices.Contains(attrs, "*") {
		return true
	}
	for _, w := range want {
		if !slices.ContainsFunc(attrs, func(a string) bool { return strings.EqualFold(a, w) }) {
			return false
		}
	}
	return true
}
