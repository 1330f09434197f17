package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// NewLDAP returns the SDS LDAP directory (gpconnect-1.6.md §1.2a) of every
// session of s, to be served beside the HTTP listener: cfg's Sessions is
// set to s's sessions, its Logger defaults to s's. The caller serves it
// and closes it.
func (s *Server) NewLDAP(cfg sdsldap.Config) *sdsldap.Server {
	cfg.Sessions = s.LDAPDirectory
	cfg.DefaultSession = DefaultSession
	if cfg.Logger == nil {
		cfg.Logger = s.cfg.Logger
	}
	return sdsldap.New(cfg)
}

// LDAPDirectory is session id's directory: its world (the FHIR SDS's one
// source of truth), its sds faults, and its journal.
func (s *Server) LDAPDirectory(id string) (sdsldap.Directory, bool) {
	ss, ok := s.Session(id)
	if !ok {
		return sdsldap.Directory{}, false
	}
	return sdsldap.Directory{World: ss.World, Fault: ss.ldapFault, Observe: ss.recordLDAP}, true
}

// LDAPURL is the LDAP URL (RFC 4516) a consumer uses for the session's
// directory served at addr: the base DN and, for a session other than the
// default, the bindname extension cn=<id> to bind with (no password).
func (ss *Session) LDAPURL(addr string) string {
	u := "ldap://" + addr + "/" + sdsldap.BaseDN
	if ss.ID != DefaultSession {
		u += "????bindname=" + url.QueryEscape("cn="+ss.ID)
	}
	return u
}

// ldapHopName names an LDAP search in the journal and in a scenario's
// sequence: "sds.ldap mhs", "sds.ldap as" (scenario.StepSDSLDAPMHS, ...).
func ldapHopName(kind string) string { return string(scenario.HopSDS) + ".ldap " + kind }

// ldapFault finds the scenario fault for an LDAP search with the same
// matcher the HTTP hops use: an sds fault with no interaction applies to
// LDAP searches too, one narrowed to "ldap mhs" or "ldap as" to those
// only. A status or spine_code becomes an LDAP result (ldapResults); a
// body has no LDAP form and is ignored.
func (ss *Session) ldapFault(kind string) *sdsldap.Fault {
	f := ss.faults.match(scenario.HopSDS, ldapHopName(kind), "")
	if f == nil {
		return nil
	}
	out := &sdsldap.Fault{Delay: f.Delay.D(), Drop: f.Drop, Describe: f.describe()}
	if f.Status != 0 || f.SpineCode != "" || f.Body != nil {
		out.Result = ldapResult(f.status())
	}
	return out
}

// ldapResults give an injected HTTP status its LDAP equivalent (RFC 4511
// Appendix A); any other status is "other" (80).
var ldapResults = map[int]uint16{
	http.StatusBadRequest:          ldap.LDAPResultUnwillingToPerform,
	http.StatusUnauthorized:        ldap.LDAPResultInsufficientAccessRights,
	http.StatusForbidden:           ldap.LDAPResultInsufficientAccessRights,
	http.StatusNotFound:            ldap.LDAPResultNoSuchObject,
	http.StatusTooManyRequests:     ldap.LDAPResultBusy,
	http.StatusBadGateway:          ldap.LDAPResultUnavailable,
	http.StatusServiceUnavailable:  ldap.LDAPResultUnavailable,
	http.StatusGatewayTimeout:      ldap.LDAPResultTimeLimitExceeded,
	http.StatusInternalServerError: ldap.LDAPResultOther,
}

func ldapResult(status int) uint16 {
	if r, ok := ldapResults[status]; ok {
		return r
	}
	return ldap.LDAPResultOther
}

// recordLDAP appends one LDAP search to the session's journal: the
// consumer→SDS hop of step 2a/2b (MHS query) or 2c/2d (AS query), the
// request as an LDAP URL (RFC 4516) and as text, the entries as LDIF, the
// result code, and the §1.2a conformance verdicts on the filter.
// The status is gpc.LDAPStatus's, so reports and the live diagram read
// it as they read an HTTP hop; the LDAP result itself is in Code and the
// Ldap-Result response header.
func (ss *Session) recordLDAP(q sdsldap.Search) {
	name := ldapHopName(q.Kind)
	step, reply := "2a", "2b"
	if q.Kind == sdsldap.KindAS {
		step, reply = "2c", "2d"
	}
	result := fmt.Sprintf("%d %s", q.Result, sdsldap.ResultName(q.Result))
	h := journal.Hop{
		Time:          q.Began,
		Duration:      q.Duration,
		From:          journal.Consumer,
		To:            journal.SDS,
		Step:          step,
		ReplyStep:     reply,
		Interaction:   name,
		Name:          name,
		Method:        "SEARCH",
		URL:           fmt.Sprintf("ldap:///%s?%s?%s?%s", q.Base, strings.Join(q.Attributes, ","), q.Scope, q.Filter),
		RequestHeader: http.Header{"Ldap-Session": {q.Session}, "Ldap-Client": {q.Remote}},
		RequestBody: fmt.Sprintf("base: %s\nscope: %s\nfilter: %s\nattributes: %s\nsizelimit: %d\n",
			q.Base, q.Scope, q.Filter, strings.Join(q.Attributes, " "), q.SizeLimit),
		Fault:  q.Fault,
		Checks: conformance.LDAPSearch(conformance.LDAPQuery{Base: q.Base, Filter: q.Filter, Attributes: q.Attributes, PartyKeySeen: ss.ldap.seen}),
	}
	if q.Kind == sdsldap.KindMHS {
		for _, e := range q.Entries {
			for _, a := range e.Attrs {
				if strings.EqualFold(a.Name, "nhsMhsPartyKey") {
					ss.ldap.add(a.Values...)
				}
			}
		}
	}
	if q.Dropped {
		h.Error = "connection dropped"
		ss.Journal.Append(h)
		ss.observed(&h)
		return
	}
	h.Status = gpc.LDAPStatus(q.Result)
	h.ResponseHeader = http.Header{"Ldap-Result": {result}}
	body := sdsldap.LDIF(q.Entries)
	if body != "" {
		body += "\n"
	}
	body += "result: " + result + "\n"
	if q.Diagnostic != "" {
		body += "diagnostic: " + q.Diagnostic + "\n"
	}
	h.ResponseBody = body // the journal clips it to Limits.BodyKept
	if q.Result != ldap.LDAPResultSuccess {
		h.Code = sdsldap.ResultName(q.Result)
	}
	ss.Journal.Append(h)
	ss.observed(&h)
}

// maxLDAPKeys bounds the party keys a session remembers for
// SDS_LDAP_AS_AFTER_MHS; past it the oldest are forgotten.
const maxLDAPKeys = 256

// ldapState is what a session remembers of its LDAP searches: the party
// keys its MHS searches returned, for the step-order check. The zero value
// is ready to use.
type ldapState struct {
	mu   sync.Mutex
	keys []string
}

func (l *ldapState) add(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if slices.ContainsFunc(l.keys, func(s string) bool { return strings.EqualFold(s, k) }) {
			continue
		}
		if len(l.keys) >= maxLDAPKeys {
			l.keys = l.keys[1:]
		}
		l.keys = append(l.keys, k)
	}
}

func (l *ldapState) seen(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.keys, func(s string) bool { return strings.EqualFold(s, key) })
}
