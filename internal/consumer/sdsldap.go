package consumer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// ldapBaseDN is where Spine's directory keeps its services
// (gpconnect-1.6.md §1.2a).
const ldapBaseDN = "ou=services,o=nhs"

// ldapTarget is an SDS given as an LDAP URL (RFC 4516):
// ldap[s]://host[:port][/base DN][????bindname=<DN>]. The base DN defaults
// to ou=services,o=nhs; bindname, when given, is bound to with no password
// before searching (spine-sandbox selects a session with cn=<session id>).
type ldapTarget struct {
	scheme, host string
	base         string
	bindDN       string
}

// sdsLDAP parses cfg.SDS when it is an ldap:// or ldaps:// URL.
func sdsLDAP(raw string) (*ldapTarget, bool, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		return nil, false, nil
	}
	if u.Host == "" {
		return nil, true, fmt.Errorf("consumer: SDS %q: an LDAP URL needs a host", raw)
	}
	t := &ldapTarget{scheme: u.Scheme, host: u.Host, base: ldapBaseDN}
	if p, err := url.PathUnescape(strings.TrimPrefix(u.EscapedPath(), "/")); err == nil && p != "" {
		t.base = p
	}
	// RawQuery is "attributes?scope?filter?extensions"; only the bindname
	// extension means anything to a lookup.
	parts := strings.Split(u.RawQuery, "?")
	if len(parts) == 4 {
		for ext := range strings.SplitSeq(parts[3], ",") {
			if v, ok := strings.CutPrefix(ext, "bindname="); ok {
				if t.bindDN, err = url.QueryUnescape(v); err != nil {
					return nil, true, fmt.Errorf("consumer: SDS %q: bindname: %v", raw, err)
				}
			}
		}
	}
	return t, true, nil
}

// ldapURL is an LDAP URL naming one search, for Hop.URL.
func (t *ldapTarget) searchURL(filter string, attrs []string) string {
	return fmt.Sprintf("%s://%s/%s?%s?sub?%s", t.scheme, t.host, t.base, strings.Join(attrs, ","), filter)
}

// endpointLDAP is Endpoint over LDAP, as §1.2a specifies: step 2a/2b the
// practice's MHS record for the interaction (endpoint and party key), step
// 2c/2d its AS record by that party key (ASID). The results and errors are
// those of the FHIR path (ErrNoEndpoint, ErrNoDevice).
func (s *Session) endpointLDAP(ctx context.Context, t *ldapTarget, ods string, interaction gpc.Interaction) (*Endpoint, error) {
	filter := fmt.Sprintf("(&(nhsIDCode=%s)(objectClass=nhsMhs)(nhsMhsSvcIA=%s))", ldap.EscapeFilter(ods), ldap.EscapeFilter(string(interaction)))
	entries, status, err := s.c.ldapSearch(ctx, t, "2a", interaction, filter, []string{"nhsMhsEndPoint", "nhsMhsPartyKey"})
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{ODS: ods, Interaction: interaction}
	for _, e := range entries {
		if addr, pk := e.GetAttributeValue("nhsMhsEndPoint"), e.GetAttributeValue("nhsMhsPartyKey"); addr != "" && pk != "" {
			ep.Address, ep.PartyKey = addr, pk
			break
		}
	}
	if ep.Address == "" {
		return nil, &Error{Kind: ErrNoEndpoint, Hop: HopSDS, Step: "2a", Interaction: string(interaction), Status: status,
			Diagnostics: fmt.Sprintf("SDS has no MHS record with an endpoint and party key for practice %s and interaction %s", ods, interaction)}
	}
	filter = fmt.Sprintf("(&(nhsIDCode=%s)(objectClass=nhsAs)(nhsMhsPartyKey=%s))", ldap.EscapeFilter(ods), ldap.EscapeFilter(ep.PartyKey))
	entries, status, err = s.c.ldapSearch(ctx, t, "2c", interaction, filter, []string{"uniqueIdentifier"})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if id := e.GetAttributeValue("uniqueIdentifier"); id != "" {
			ep.ASID = id
			break
		}
	}
	if ep.ASID == "" {
		return nil, &Error{Kind: ErrNoDevice, Hop: HopSDS, Step: "2c", Interaction: string(interaction), Status: status,
			Diagnostics: fmt.Sprintf("SDS has no AS record (ASID) for practice %s, party key %s", ods, ep.PartyKey)}
	}
	return ep, nil
}

// retryLDAP are the results a search is retried on, as the FHIR path
// retries 429 and 5xx: busy, unavailable, timeLimitExceeded and other.
var retryLDAP = map[uint16]bool{
	ldap.LDAPResultBusy: true, ldap.LDAPResultUnavailable: true, ldap.LDAPResultTimeLimitExceeded: true, ldap.LDAPResultOther: true,
}

// ldapSearch runs one search with the retries and back-off of the FHIR
// path (at most maxTries, §1.4), each attempt on a connection of its own
// reported to the Observer. It returns the entries and the status the
// result is reported as (gpc.LDAPStatus).
func (cl *Client) ldapSearch(ctx context.Context, t *ldapTarget, step string, in gpc.Interaction, filter string, attrs []string) ([]*ldap.Entry, int, error) {
	var lastErr error
	for attempt := 1; attempt <= maxTries; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return nil, 0, &Error{Kind: ErrTransport, Hop: HopSDS, Step: step, Interaction: string(in), Err: ctx.Err()}
			case <-time.After(cl.cfg.Backoff << (attempt - 2)):
			}
		}
		entries, code, err := cl.ldapOnce(ctx, t, step, in, filter, attrs, attempt)
		switch {
		case err != nil && code < 0:
			lastErr = &Error{Kind: ErrTransport, Hop: HopSDS, Step: step, Interaction: string(in), Err: err}
			if ctx.Err() != nil {
				return nil, 0, lastErr
			}
			continue
		case err == nil:
			return entries, gpc.LDAPStatus(0), nil
		}
		lastErr = &Error{Kind: ErrRemote, Hop: HopSDS, Step: step, Interaction: string(in), Status: gpc.LDAPStatus(uint16(code)),
			Code: ldapResultName(uint16(code)), Diagnostics: err.Error()}
		if !retryLDAP[uint16(code)] {
			return nil, 0, lastErr
		}
	}
	return nil, 0, lastErr
}

// ldapOnce is one attempt: dial, bind when the URL names a DN, search. code
// is the LDAP result, or -1 when there was no answer.
func (cl *Client) ldapOnce(ctx context.Context, t *ldapTarget, step string, in gpc.Interaction, filter string, attrs []string, attempt int) (entries []*ldap.Entry, code int, err error) {
	start := time.Now()
	hop := Hop{Step: step, Service: HopSDS, Interaction: in, Method: "SEARCH", URL: t.searchURL(filter, attrs), Attempt: attempt}
	defer func() {
		hop.Duration, hop.Err = time.Since(start), err
		if code >= 0 {
			hop.Status = gpc.LDAPStatus(uint16(code))
		}
		if cl.cfg.Observer != nil {
			cl.cfg.Observer(hop)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, cl.cfg.Timeout)
	defer cancel()
	dialer := &net.Dialer{Timeout: cl.cfg.Timeout}
	opts := []ldap.DialOpt{ldap.DialWithDialer(dialer)}
	if t.scheme == "ldaps" {
		opts = append(opts, ldap.DialWithTLSConfig(cl.tlsConfig()))
	}
	conn, err := ldap.DialURL(t.scheme+"://"+t.host, opts...)
	if err != nil {
		return nil, -1, err
	}
	defer conn.Close()
	conn.SetTimeout(cl.cfg.Timeout)
	// The search may not outlive the caller's context.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if t.bindDN != "" {
		if err := conn.UnauthenticatedBind(t.bindDN); err != nil {
			return nil, ldapCode(err), err
		}
	}
	res, err := conn.Search(ldap.NewSearchRequest(t.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		return nil, ldapCode(err), err
	}
	return res.Entries, 0, nil
}

// ldapCode is err's LDAP result code, or -1 when err is no LDAP result
// (the connection failed or closed).
func ldapCode(err error) int {
	var e *ldap.Error
	if errors.As(err, &e) && e.ResultCode < ldap.ErrorNetwork {
		return int(e.ResultCode)
	}
	return -1
}

// ldapResultName is the LDAP name of a result code, e.g. "noSuchObject",
// for Error.Code.
func ldapResultName(code uint16) string {
	if s, ok := ldap.LDAPResultCodeMap[code]; ok {
		// go-ldap's texts are "No Such Object"; the protocol's names are
		// lowerCamelCase.
		words := strings.Fields(s)
		for i, w := range words {
			if i == 0 {
				words[i] = strings.ToLower(w[:1]) + w[1:]
			} else {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		return strings.Join(words, "")
	}
	return fmt.Sprintf("result %d", code)
}

// tlsConfig is the TLS configuration of the consumer's HTTP client (its
// client certificate and CA for Spine, from TLSClient), so LDAPS uses the
// same mutual TLS (§1.2a); TLS 1.2 at least when it has none.
func (cl *Client) tlsConfig() *tls.Config {
	if tr, ok := cl.http.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		return tr.TLSClientConfig.Clone()
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
}
