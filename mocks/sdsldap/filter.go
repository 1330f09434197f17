package sdsldap

import (
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// maxFilterDepth bounds how deeply a client may nest AND, OR and NOT, so a
// hostile filter cannot make the evaluator recurse without end.
const maxFilterDepth = 32

// match reports whether e matches the decoded filter f (RFC 4511 §4.5.1.7).
// Every attribute the directory holds is a directoryString or IA5String
// compared with caseIgnoreMatch (RFC 4517), so names and values are both
// compared case-insensitively: the spec's own filters spell
// "nhsMHSPartyKey" and "objectClass=nhsAS" against records written
// nhsMhsPartyKey and nhsAs. An unknown attribute matches nothing (RFC
// 4511's Undefined, taken as false; NOT of it is then true, a
// simplification no §1.2a query depends on). Extensible matches are
// refused with unwillingToPerform.
func match(e *entry, f *ber.Packet, depth int) (bool, error) {
	if depth > maxFilterDepth {
		return false, resultError(ldap.LDAPResultUnwillingToPerform, "filter nested deeper than %d", maxFilterDepth)
	}
	if f.ClassType != ber.ClassContext {
		return false, resultError(ldap.LDAPResultProtocolError, "malformed filter")
	}
	switch f.Tag {
	case ldap.FilterAnd, ldap.FilterOr:
		and := f.Tag == ldap.FilterAnd
		result := and // an empty AND is true, an empty OR false (RFC 4526)
		for _, c := range f.Children {
			ok, err := match(e, c, depth+1)
			if err != nil {
				return false, err
			}
			if and {
				result = result && ok
			} else {
				result = result || ok
			}
		}
		return result, nil
	case ldap.FilterNot:
		if len(f.Children) != 1 {
			return false, resultError(ldap.LDAPResultProtocolError, "malformed NOT filter")
		}
		ok, err := match(e, f.Children[0], depth+1)
		return !ok, err
	case ldap.FilterPresent:
		_, ok := e.get(packetString(f))
		return ok, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		// Approximate matching may be plain equality (RFC 4511 §4.5.1.7.6).
		if len(f.Children) != 2 {
			return false, resultError(ldap.LDAPResultProtocolError, "malformed attribute value assertion")
		}
		values, _ := e.get(packetString(f.Children[0]))
		want := packetString(f.Children[1])
		if f.Tag == ldap.FilterEqualityMatch || f.Tag == ldap.FilterApproxMatch {
			for _, v := range values {
				if strings.EqualFold(v, want) {
					return true, nil
				}
			}
			return false, nil
		}
		want = strings.ToLower(want)
		for _, v := range values {
			v = strings.ToLower(v)
			if f.Tag == ldap.FilterGreaterOrEqual && v >= want || f.Tag == ldap.FilterLessOrEqual && v <= want {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterSubstrings:
		if len(f.Children) != 2 {
			return false, resultError(ldap.LDAPResultProtocolError, "malformed substring filter")
		}
		values, _ := e.get(packetString(f.Children[0]))
		for _, v := range values {
			if substrings(strings.ToLower(v), f.Children[1].Children) {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterExtensibleMatch:
		return false, resultError(ldap.LDAPResultUnwillingToPerform, "extensible match filters are not supported by this directory")
	}
	return false, resultError(ldap.LDAPResultProtocolError, "unknown filter choice %d", f.Tag)
}

// substrings matches v (lower case) against initial, any and final parts in
// order (RFC 4511 §4.5.1.7.2).
func substrings(v string, parts []*ber.Packet) bool {
	for i, p := range parts {
		s := strings.ToLower(packetString(p))
		switch p.Tag {
		case ldap.FilterSubstringsInitial:
			if i != 0 || !strings.HasPrefix(v, s) {
				return false
			}
			v = v[len(s):]
		case ldap.FilterSubstringsAny:
			j := strings.Index(v, s)
			if j < 0 {
				return false
			}
			v = v[j+len(s):]
		case ldap.FilterSubstringsFinal:
			if i != len(parts)-1 || !strings.HasSuffix(v, s) {
				return false
			}
			v = ""
		}
	}
	return true
}

// filterString is the filter as RFC 4515 text, for the journal and the
// conformance checks; a filter go-ldap cannot print is described instead.
func filterString(f *ber.Packet) string {
	s, err := ldap.DecompileFilter(f)
	if err != nil {
		return fmt.Sprintf("(undecodable filter: %v)", err)
	}
	return s
}

// packetString is a primitive packet's content as text.
func packetString(p *ber.Packet) string {
	if p == nil {
		return ""
	}
	if s, ok := p.Value.(string); ok {
		return s
	}
	if p.Data != nil {
		return p.Data.String()
	}
	return ""
}
