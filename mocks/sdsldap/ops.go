package sdsldap

import (
	"fmt"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// bind answers a BindRequest (RFC 4511 §4.2). Spine's directory is read
// anonymously (§1.2a; its access control is mutual TLS, not a bind), so
// the only binds accepted carry no password: an empty DN (anonymous,
// the default session) or "cn=<session id>" (an unauthenticated bind
// that selects the session). A password is refused with
// invalidCredentials (49): the directory has no credentials to check it
// against (RFC 4513 §5.1.3); SASL with authMethodNotSupported (7).
func (c *conn) bind(id int64, req *ber.Packet) error {
	return c.writeResult(id, ldap.ApplicationBindResponse, c.doBind(req))
}

func (c *conn) doBind(req *ber.Packet) error {
	if len(req.Children) != 3 {
		return resultError(ldap.LDAPResultProtocolError, "malformed bind request")
	}
	if v, _ := req.Children[0].Value.(int64); v != 3 {
		return resultError(ldap.LDAPResultProtocolError, "only LDAPv3 is supported")
	}
	name := strings.TrimSpace(packetString(req.Children[1]))
	auth := req.Children[2]
	if auth.ClassType != ber.ClassContext || auth.Tag != 0 {
		return resultError(ldap.LDAPResultAuthMethodNotSupported, "only simple binds without a password are supported (SASL is not)")
	}
	if auth.Data.Len() > 0 {
		return resultError(ldap.LDAPResultInvalidCredentials, "the directory is read anonymously: bind with no password (choose a session with the DN cn=<session id>)")
	}
	session := c.s.cfg.DefaultSession
	if name != "" {
		dn, err := ldap.ParseDN(name)
		if err != nil || len(dn.RDNs) != 1 || len(dn.RDNs[0].Attributes) != 1 || !strings.EqualFold(dn.RDNs[0].Attributes[0].Type, "cn") {
			return resultError(ldap.LDAPResultInvalidCredentials, "bind DN %q: want an empty DN (the default session) or cn=<session id>", name)
		}
		session = dn.RDNs[0].Attributes[0].Value
	}
	if _, ok := c.s.cfg.Sessions(session); !ok {
		return resultError(ldap.LDAPResultInvalidCredentials, "no session %q", session)
	}
	c.session = session
	return nil
}

// scopes are the search scopes by their protocol value, with the names an
// LDAP URL gives them (RFC 4516).
var scopes = map[int64]string{
	ldap.ScopeBaseObject:   "base",
	ldap.ScopeSingleLevel:  "one",
	ldap.ScopeWholeSubtree: "sub",
}

// searchRequest is a decoded SearchRequest (RFC 4511 §4.5.1).
type searchRequest struct {
	base       string
	scope      int64
	sizeLimit  int64
	typesOnly  bool
	filter     *ber.Packet
	attributes []string
}

func decodeSearch(req *ber.Packet) (*searchRequest, error) {
	if len(req.Children) != 8 {
		return nil, resultError(ldap.LDAPResultProtocolError, "malformed search request")
	}
	ch := req.Children
	scope, ok1 := ch[1].Value.(int64)
	size, ok2 := ch[3].Value.(int64)
	types, ok3 := ch[5].Value.(bool)
	if !ok1 || !ok2 || !ok3 || size < 0 {
		return nil, resultError(ldap.LDAPResultProtocolError, "malformed search request")
	}
	if _, known := scopes[scope]; !known {
		return nil, resultError(ldap.LDAPResultProtocolError, "unknown scope %d", scope)
	}
	r := &searchRequest{base: packetString(ch[0]), scope: scope, sizeLimit: size, typesOnly: types, filter: ch[6]}
	for _, a := range ch[7].Children {
		r.attributes = append(r.attributes, packetString(a))
	}
	return r, nil
}

// search answers a SearchRequest from the session's world: the matching
// entries, then the result (RFC 4511 §4.5.2). It is recorded whatever the
// outcome.
func (c *conn) search(id int64, req *ber.Packet) error {
	began := time.Now()
	r, err := decodeSearch(req)
	if err != nil {
		return c.writeResult(id, ldap.ApplicationSearchResultDone, err)
	}
	rec := Search{
		Session: c.session, Kind: kindOf(r.filter), Base: r.base, Scope: scopes[r.scope],
		Filter: filterString(r.filter), Attributes: r.attributes, SizeLimit: r.sizeLimit,
		Began: began, Remote: c.nc.RemoteAddr().String(),
	}
	dir, ok := c.s.cfg.Sessions(c.session)
	if !ok {
		// The session was deleted since the bind.
		err := resultError(ldap.LDAPResultUnavailable, "session %q is gone", c.session)
		rec.Result, rec.Diagnostic = err.Code, err.Diagnostic
		return c.writeResult(id, ldap.ApplicationSearchResultDone, err)
	}
	// The journal is told before the result goes out, so a client that
	// acts on the result finds the search already recorded.
	observe := func() {
		rec.Duration = time.Since(began)
		if dir.Observe != nil {
			dir.Observe(rec)
		}
	}
	var f *Fault
	if dir.Fault != nil {
		f = dir.Fault(rec.Kind)
	}
	if f != nil {
		rec.Fault = f.Describe
		if !c.hold(f.Delay) || f.Drop {
			rec.Dropped = true
			observe()
			return errDrop
		}
		if f.Result != ldap.LDAPResultSuccess {
			rec.Result, rec.Diagnostic = f.Result, "injected by the scenario: "+f.Describe
			observe()
			return c.writeResult(id, ldap.ApplicationSearchResultDone, &Error{Code: f.Result, Diagnostic: rec.Diagnostic})
		}
	}
	found, err := c.s.find(dir, r)
	for _, e := range found {
		if werr := c.write(id, entryPacket(e)); werr != nil {
			rec.Dropped = true
			observe()
			return werr
		}
		rec.Entries = append(rec.Entries, e)
	}
	if e, ok := err.(*Error); ok {
		rec.Result, rec.Diagnostic = e.Code, e.Diagnostic
	}
	observe()
	return c.writeResult(id, ldap.ApplicationSearchResultDone, err)
}

// hold waits d, or reports false when the server closes first.
func (c *conn) hold(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.s.ctx.Done():
		return false
	}
}

// find evaluates r against the session's entries: base DN and scope, the
// filter, the size limit (the client's, capped by MaxEntries) and the
// requested attributes. On sizeLimitExceeded it returns the entries within
// the limit with the error.
func (s *Server) find(dir Directory, r *searchRequest) ([]Entry, error) {
	base, err := ldap.ParseDN(r.base)
	if err != nil {
		return nil, resultError(ldap.LDAPResultInvalidDNSyntax, "base DN %q: %v", r.base, err)
	}
	all := entries(dir.World)
	// The containers are the usual bases; any other is looked for among
	// the entries (parsing every DN is what a search costs most).
	baseExists := base.EqualFold(rootDN) || base.EqualFold(servicesDN)
	for i := 0; i < len(all) && !baseExists; i++ {
		dn, _ := ldap.ParseDN(all[i].dn)
		baseExists = dn.EqualFold(base)
	}
	if !baseExists {
		matched := ""
		if servicesDN.AncestorOfFold(base) {
			matched = BaseDN
		} else if rootDN.AncestorOfFold(base) {
			matched = "o=nhs"
		}
		return nil, &Error{Code: ldap.LDAPResultNoSuchObject, MatchedDN: matched, Diagnostic: fmt.Sprintf("no entry %q: the services are under %s", r.base, BaseDN)}
	}
	limit := int64(s.cfg.MaxEntries)
	if r.sizeLimit > 0 && r.sizeLimit < limit {
		limit = r.sizeLimit
	}
	var out []Entry
	for i := range all {
		e := &all[i]
		ok, err := match(e, r.filter, 0)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if dn, _ := ldap.ParseDN(e.dn); !inScope(base, dn, r.scope) {
			continue
		}
		if int64(len(out)) >= limit {
			return out, resultError(ldap.LDAPResultSizeLimitExceeded, "more than %d entries match", limit)
		}
		out = append(out, selectAttrs(e, r.attributes, r.typesOnly))
	}
	return out, nil
}

// The two containers' DNs, parsed once.
var (
	rootDN, _     = ldap.ParseDN("o=nhs")
	servicesDN, _ = ldap.ParseDN(BaseDN)
)

func inScope(base, dn *ldap.DN, scope int64) bool {
	switch scope {
	case ldap.ScopeBaseObject:
		return dn.EqualFold(base)
	case ldap.ScopeSingleLevel:
		return len(dn.RDNs) == len(base.RDNs)+1 && base.AncestorOfFold(dn)
	}
	return dn.EqualFold(base) || base.AncestorOfFold(dn)
}

// selectAttrs returns e with the attributes asked for (RFC 4511 §4.5.1.8):
// none or "*" all of them, "1.1" none, otherwise those named (in any case,
// returned as the directory spells them); "+" adds nothing, the directory
// keeping no operational attributes.
func selectAttrs(e *entry, want []string, typesOnly bool) Entry {
	all := len(want) == 0
	for _, w := range want {
		all = all || w == "*"
	}
	out := Entry{DN: e.dn}
	for _, a := range e.attrs {
		keep := all
		for _, w := range want {
			name, _, _ := strings.Cut(w, ";") // options such as ;binary are ignored
			keep = keep || strings.EqualFold(name, a.name)
		}
		if !keep {
			continue
		}
		values := a.values
		if typesOnly {
			values = nil
		}
		out.Attrs = append(out.Attrs, Attr{Name: a.name, Values: values})
	}
	return out
}

// entryPacket is a SearchResultEntry (RFC 4511 §4.5.2).
func entryPacket(e Entry) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "Search Result Entry")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.DN, "objectName"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, a := range e.Attrs {
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.Name, "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a.Values {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		pa.AppendChild(vals)
		attrs.AppendChild(pa)
	}
	p.AppendChild(attrs)
	return p
}

// kindOf tells an MHS query from an AS query by the objectClass equality
// the filter holds (at any depth); the journal names and steps follow it.
func kindOf(f *ber.Packet) string {
	var class string
	var walk func(*ber.Packet, int)
	walk = func(p *ber.Packet, depth int) {
		if p == nil || depth > maxFilterDepth || class != "" {
			return
		}
		if p.ClassType == ber.ClassContext && p.Tag == ldap.FilterEqualityMatch && len(p.Children) == 2 && strings.EqualFold(packetString(p.Children[0]), "objectClass") {
			class = strings.ToLower(packetString(p.Children[1]))
			return
		}
		if p.ClassType == ber.ClassContext && (p.Tag == ldap.FilterAnd || p.Tag == ldap.FilterOr || p.Tag == ldap.FilterNot) {
			for _, c := range p.Children {
				walk(c, depth+1)
			}
		}
	}
	walk(f, 0)
	switch class {
	case strings.ToLower(classMHS):
		return KindMHS
	case strings.ToLower(classAS):
		return KindAS
	}
	return KindOther
}

// LDIF renders entries as LDIF-like text (RFC 2849 without base64), for
// the journal's response body.
func LDIF(es []Entry) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "dn: %s\n", e.DN)
		for _, a := range e.Attrs {
			if len(a.Values) == 0 {
				fmt.Fprintf(&b, "%s:\n", a.Name)
			}
			for _, v := range a.Values {
				fmt.Fprintf(&b, "%s: %s\n", a.Name, v)
			}
		}
	}
	return b.String()
}

// ResultName is an LDAP result code's name, e.g. "noSuchObject".
func ResultName(code uint16) string {
	if name, ok := resultNames[code]; ok {
		return name
	}
	return fmt.Sprintf("result %d", code)
}

// resultNames are RFC 4511 Appendix A's names of the codes this
// directory answers with.
var resultNames = map[uint16]string{
	ldap.LDAPResultSuccess:                  "success",
	ldap.LDAPResultOperationsError:          "operationsError",
	ldap.LDAPResultProtocolError:            "protocolError",
	ldap.LDAPResultTimeLimitExceeded:        "timeLimitExceeded",
	ldap.LDAPResultSizeLimitExceeded:        "sizeLimitExceeded",
	ldap.LDAPResultAuthMethodNotSupported:   "authMethodNotSupported",
	ldap.LDAPResultNoSuchObject:             "noSuchObject",
	ldap.LDAPResultInvalidDNSyntax:          "invalidDNSyntax",
	ldap.LDAPResultInvalidCredentials:       "invalidCredentials",
	ldap.LDAPResultInsufficientAccessRights: "insufficientAccessRights",
	ldap.LDAPResultBusy:                     "busy",
	ldap.LDAPResultUnavailable:              "unavailable",
	ldap.LDAPResultUnwillingToPerform:       "unwillingToPerform",
	ldap.LDAPResultOther:                    "other",
}
