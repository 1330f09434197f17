package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// URLs that follow the client. A sandbox in a container on a random mapped
// port, or behind a proxy, cannot know the address its clients use; with
// Config.FollowClient (serve without --public-url) each request's origin —
// scheme://Host, or X-Forwarded-Proto and -Host with Config.TrustForwarded —
// is the base of every URL handed out in answer to it: the session URLs of
// the admin API, PDS's and SDS's fullUrls, and the service roots SDS
// registers. The session's world is served through a view at that origin
// (world.At), so the SSP's target check and the provider's JWT audience
// check use the very roots SDS gave the same client.
//
// The SSP still forwards only to a registered root, and a root built on a
// request's origin is served in process — inProcess recognises the origin
// the request arrived on — and never dialled: a Host header cannot make the
// sandbox connect anywhere. Roots a scenario names (`endpoint`) are as
// written and go through the upstream guard as before.

// originKey carries a request's origin (scheme://host, lower case).
type originKey struct{}

// maxOriginViews bounds the mocks a session keeps built per origin; past
// it a request's mocks are built for it alone (a client sending a new Host
// on every request costs time, never memory).
const maxOriginViews = 16

// mockSet is a session's mocks as seen from one origin.
type mockSet struct {
	pds, sds, ssp, provider http.Handler
}

// withOrigin records the request's origin in its context, once: an
// in-process request from the SSP already carries the provider's.
func (s *Server) withOrigin(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(originKey{}).(string); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), originKey{}, s.clientOrigin(r)))
}

// requestOrigin is the origin URLs answering r are built on.
func (s *Server) requestOrigin(r *http.Request) string {
	if o, ok := r.Context().Value(originKey{}).(string); ok {
		return o
	}
	return s.clientOrigin(r)
}

// clientOrigin works out r's origin: the public URL unless the sandbox
// follows its clients and r names a well-formed host.
func (s *Server) clientOrigin(r *http.Request) string {
	if !s.cfg.FollowClient {
		return s.cfg.PublicURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if s.cfg.TrustForwarded {
		if h := firstForwarded(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
		if p := strings.ToLower(firstForwarded(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
	}
	host = strings.ToLower(host)
	if !validHostPort(host) {
		return s.cfg.PublicURL
	}
	return scheme + "://" + host
}

// firstForwarded is the first of a comma-separated X-Forwarded-* list:
// what the proxy nearest the client wrote.
func firstForwarded(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// validHostPort accepts a host name or IP literal with an optional port,
// and nothing a URL could read as a path, user or query.
func validHostPort(hp string) bool {
	host, port := hp, ""
	if h, p, err := net.SplitHostPort(hp); err == nil {
		host, port = h, p
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	} else if strings.Contains(hp, ":") {
		return false // a bare IPv6 address must be bracketed
	}
	if strings.HasPrefix(hp, "[") {
		a, err := netip.ParseAddr(host)
		return err == nil && a.Is6() && a.Zone() == ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return validHostName(host)
}

// URLsAt returns the session's base URLs on origin (scheme://host).
func (ss *Session) URLsAt(origin string) URLs {
	base := origin + ss.Prefix
	return URLs{PDS: base + PDSPath, SDS: base + SDSPath, SSP: base + SSPPath, Provider: base + ProviderPath, UI: base + "/"}
}

// infoFor is Info with the URLs on r's origin.
func (s *Server) infoFor(r *http.Request, ss *Session) SessionInfo {
	i := ss.Info()
	i.URLs = ss.URLsAt(s.requestOrigin(r))
	return i
}

// mocksFor returns the session's mocks for r's origin.
func (ss *Session) mocksFor(r *http.Request) *mockSet {
	o, _ := r.Context().Value(originKey{}).(string)
	if o == "" || isBase(o, ss.Prefix, ss.Base) {
		return ss.mocks
	}
	ss.viewMu.Lock()
	defer ss.viewMu.Unlock()
	if m, ok := ss.views[o]; ok {
		return m
	}
	m := ss.server.buildMocks(ss, ss.World.At(o+ss.Prefix))
	if len(ss.views) < maxOriginViews {
		if ss.views == nil {
			ss.views = map[string]*mockSet{}
		}
		ss.views[o] = m
	}
	return m
}

// isBase reports whether origin+prefix is base, without joining them per
// request.
func isBase(origin, prefix, base string) bool {
	return len(origin)+len(prefix) == len(base) && strings.HasPrefix(base, origin) && strings.HasSuffix(base, prefix)
}

// parseRequest is the judge's rules for a consumer's request to the SSP:
// the provider's own (provider.Parse), whose parse the hop keeps for the
// provider the SSP forwards the request to in process (inProcess), so that
// the request is parsed once on its way through both.
func parseRequest(r *http.Request, in gpc.Interaction, q url.Values, body []byte) error {
	p, err := provider.Parse(in, r.Header, r.URL.RawQuery, q, body)
	if st := hopOf(r); st != nil && p != nil {
		st.mu.Lock()
		st.parsed = p
		st.mu.Unlock()
	}
	return err
}

// buildMocks wraps the session's mocks over w, one view of its world.
func (s *Server) buildMocks(ss *Session, w *world.World) *mockSet {
	prefix := ss.Prefix
	// Conformance verdicts on the consumer's requests, the failed ones (the
	// journal keeps no others: conformance.Merge); in strict mode record
	// answers those no mock enforces (strict.go).
	judgeSSP := conformance.NewSSPJudge(prefix+SSPPath, w, ss.journey, parseRequest).Failures
	var transport http.RoundTripper = &inProcess{s: s, ss: ss, provider: prefix + ProviderPath + "/"}
	if s.proxyOwn {
		transport = struct{ http.RoundTripper }{transport} // not an ssp.Local
	}
	var sdsOpts []sds.Option
	if !ss.Lenient {
		sdsOpts = append(sdsOpts, sds.Strict())
	}
	return &mockSet{
		pds:      ss.record(journal.Consumer, journal.PDS, scenario.HopPDS, pds.New(w, pds.WithLogger(s.cfg.Logger), pds.WithReport(reportMock)), nil, pds.Checks),
		sds:      ss.record(journal.Consumer, journal.SDS, scenario.HopSDS, sds.New(w, append(sdsOpts, sds.WithLogger(s.cfg.Logger), sds.WithReport(reportMock))...), nil, sds.Checks),
		provider: ss.record(journal.Consumer, journal.Provider, scenario.HopProvider, provider.New(w, provider.WithLogger(s.cfg.Logger)), nil, nil),
		ssp: ss.record(journal.Consumer, journal.SSP, scenario.HopSSP, ssp.New(ssp.Config{
			World:     w,
			Prefix:    prefix + SSPPath,
			Transport: transport,
			Lenient:   ss.Lenient,
			Timeout:   ss.Scenario.SSPTimeout.D(),
			Report:    reportSSP,
		}), judgeSSP, nil),
	}
}

// ownOrigin reports whether the URL scheme and host are the sandbox's own
// for a request with context ctx: its public URL, or the origin the
// request arrived on when the sandbox follows its clients.
func (s *Server) ownOrigin(ctx context.Context, scheme, host string) bool {
	if scheme == s.public.Scheme && host == s.public.Host {
		return true
	}
	o, ok := ctx.Value(originKey{}).(string)
	return ok && s.cfg.FollowClient && o == scheme+"://"+strings.ToLower(host)
}
