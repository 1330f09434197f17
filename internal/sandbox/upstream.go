package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// The SSP is never an open proxy, even through a scenario: a scenario names
// its practices' service roots (`endpoint`), so without a bound anyone who
// can create a session could make the sandbox fetch any URL its host can
// reach — the cloud metadata service, the admin API, another team's
// service — and read the answer back. So the SSP forwards only to
//
//   - the forwarding session's own provider, in process (inProcess), and
//   - over the network, to upstreams the operator allowed (Config.Upstreams,
//     `serve --upstream`), never to link-local, metadata, unspecified,
//     multicast or broadcast addresses, whatever the operator allowed.
//
// It is enforced twice: when a session is created (endpointProblems, a
// file:line:column problem on the `endpoint` key) and when the network
// transport dials (upstreamGuard.control, on the resolved IP and port, so
// a name that resolves elsewhere at dial time than it seemed to — DNS
// rebinding — gets nowhere).

// Upstream is one destination the operator allows the SSP to forward to
// over the network: a host name with an optional port, or an IP address
// or CIDR range (an address may carry a port).
type Upstream struct {
	name   string       // lower-case host name; "" for an address entry
	prefix netip.Prefix // the addresses, for an address or CIDR entry
	port   string       // "" allows every port
	text   string       // as the operator wrote it
}

// String returns the upstream as it was written.
func (u Upstream) String() string { return u.text }

// ParseUpstream reads HOST, HOST:PORT, IP, IP:PORT, [IPv6]:PORT or a CIDR
// (10.0.0.0/8, fd00::/8). A CIDR allows every port; a host name is matched
// as written (case aside), never resolved to match an address entry.
func ParseUpstream(s string) (Upstream, error) {
	u := Upstream{text: s}
	bad := func(why string) (Upstream, error) {
		return Upstream{}, fmt.Errorf("upstream %q: %s (want HOST, HOST:PORT, IP, IP:PORT or a CIDR such as 10.0.0.0/8)", s, why)
	}
	switch {
	case s == "":
		return bad("empty")
	case strings.Contains(s, "://"):
		return bad("a host, not a URL")
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return bad("not a CIDR")
		}
		u.prefix = p.Masked()
	default:
		if a, err := netip.ParseAddr(s); err == nil {
			u.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			break
		}
		host := s
		if h, p, err := net.SplitHostPort(s); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return bad("the port must be 1–65535")
			}
			host, u.port = h, strconv.Itoa(n)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			u.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			break
		}
		if !validHostName(host) {
			return bad("not a host name")
		}
		u.name = strings.ToLower(host)
	}
	if u.name == "" {
		if why := neverAllowed(u.prefix.Addr()); why != "" && u.prefix.IsSingleIP() {
			return bad("a " + why + " address, which the SSP never forwards to")
		}
	}
	return u, nil
}

// validHostName reports whether h is letters, digits, '-' and '.' labels.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, …
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	}
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	broadcast   = netip.MustParseAddr("255.255.255.255")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
)

// neverAllowed says why the SSP must never connect to a, even when an
// operator's CIDR covers it, or "" when it may. Connecting to 0.0.0.0
// reaches the local host on Linux, so the unspecified range is refused
// too; IPv4-mapped and NAT64 (64:ff9b::/96) forms are judged as the IPv4
// address they carry.
func neverAllowed(a netip.Addr) string {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, m := range metadataAddrs {
		if a == m {
			return "cloud metadata"
		}
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "unspecified"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast"
	case a == broadcast:
		return "broadcast"
	}
	return ""
}

// upstreams is the operator's allowlist.
type upstreams []Upstream

// allowsName reports whether the host name host (not an address) at port
// is listed.
func (us upstreams) allowsName(host, port string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, u := range us {
		if u.name != "" && strings.TrimSuffix(u.name, ".") == host && (u.port == "" || u.port == port) {
			return true
		}
	}
	return false
}

// allowsAddr reports whether a:port is in an address or CIDR entry and is
// not an address the SSP never connects to.
func (us upstreams) allowsAddr(a netip.Addr, port string) bool {
	a = a.Unmap()
	if neverAllowed(a) != "" {
		return false
	}
	for _, u := range us {
		if u.name == "" && u.prefix.Contains(a) && (u.port == "" || u.port == port) {
			return true
		}
	}
	return false
}

// refusedDial is the error a dial the guard stopped returns; the SSP
// answers it as an unreachable provider (502
// ERROR_COMMUNICATING_TO_ENDPOINT_URL_…).
type refusedDial struct{ addr, why string }

func (e *refusedDial) Error() string {
	return "spine-sandbox: the SSP does not connect to " + e.addr + ": " + e.why
}

// control is the net.Dialer Control of the network transport: it runs
// after the name is resolved and before connect(2), on the very address
// about to be dialled. byName is true when the dial is for a host name the
// operator listed: such a name may resolve to any address that is not
// never-allowed (the operator trusts the name, not its addresses).
func (us upstreams) control(address string, byName bool) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedDial{address, "not an IP address and port"}
	}
	if why := neverAllowed(ap.Addr()); why != "" {
		return &refusedDial{address, "a " + why + " address"}
	}
	if byName || us.allowsAddr(ap.Addr(), strconv.Itoa(int(ap.Port()))) {
		return nil
	}
	return &refusedDial{address, "not an allowed upstream (serve --upstream)"}
}

// newNetworkTransport is how the SSP reaches upstreams that are not the
// sandbox's own provider, every connection checked by us.
func newNetworkTransport(us upstreams) *http.Transport {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, &refusedDial{addr, "not host:port"}
		}
		_, notAddr := netip.ParseAddr(host)
		byName := notAddr != nil && us.allowsName(host, port)
		d := &net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
			Control: func(_, address string, _ syscall.RawConn) error {
				return us.control(address, byName)
			},
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Transport{
		Proxy:               nil, // never route provider traffic through an environment proxy
		DialContext:         dial,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
}

// endpointProblems refuses, when a session is created, every practice
// endpoint the SSP would not forward to: the sandbox's own host outside
// this session's provider (providerPrefix, e.g. "/s/abc/provider/"), or a
// network upstream the operator did not allow.
func (s *Server) endpointProblems(sc *scenario.Scenario, providerPrefix string) []scenario.Problem {
	var out []scenario.Problem
	for _, p := range sc.Practices {
		if p.Endpoint == "" {
			continue
		}
		at := p.At.Of("endpoint")
		problem := func(format string, args ...any) {
			out = append(out, scenario.Problem{File: sc.File, Line: at.Line, Column: at.Column,
				Message: "practices: endpoint " + strconv.Quote(p.Endpoint) + ": " + fmt.Sprintf(format, args...)})
		}
		u, err := url.Parse(p.Endpoint)
		if err != nil || u.Host == "" {
			continue // the scenario's own validation reports it
		}
		if u.Scheme == s.public.Scheme && u.Host == s.public.Host {
			if !underProvider(u.Path, providerPrefix) || !underProvider(u.EscapedPath(), providerPrefix) {
				problem("on the sandbox itself the SSP forwards only to this session's provider (%s%s…); leave endpoint empty for it", s.cfg.PublicURL, providerPrefix)
			}
			continue
		}
		if under(path.Clean("/"+u.Path), strings.TrimSuffix(AdminPath, "/")) {
			// Another name for this sandbox (127.0.0.1 for localhost, a
			// second interface) under an allowed CIDR would reach its admin
			// API over the network.
			problem("the SSP never forwards to a sandbox's admin API (%s)", AdminPath)
			continue
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if why := neverAllowed(a); why != "" {
				problem("%s is a %s address, which the SSP never forwards to", host, why)
			} else if !s.upstreams.allowsAddr(a, port) {
				problem("the SSP forwards only to the sandbox's own provider and to allowed upstreams; start the sandbox with --upstream %s to allow it", net.JoinHostPort(host, port))
			}
			continue
		}
		if !s.upstreams.allowsName(host, port) {
			problem("the SSP forwards only to the sandbox's own provider and to allowed upstreams; start the sandbox with --upstream %s to allow it (an allowed CIDR covers IP addresses, not names)", net.JoinHostPort(host, port))
		}
	}
	return out
}

// underProvider reports whether the URL path p is below prefix with no
// dot segment or empty segment that a server could resolve elsewhere.
func underProvider(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	return path.Clean(p) == strings.TrimSuffix(p, "/") && !strings.Contains(p, "//")
}
