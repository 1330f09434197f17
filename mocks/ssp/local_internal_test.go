package ssp

import (
	"crypto/tls"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAddHeaderLeavesTheAnswer: the answer's headers are copied less the
// hop-by-hop ones and those its Connection names (what ReverseProxy copies
// after removing them), and the answer's own map is not changed: the
// sandbox's journal keeps it (ForwardedLocally).
func TestAddHeaderLeavesTheAnswer(t *testing.T) {
	src := http.Header{
		"Content-Type": {"application/fhir+json"}, "Connection": {"X-Secret, keep-alive"}, "X-Secret": {"hop"},
		"Keep-Alive": {"timeout=5"}, "Transfer-Encoding": {"chunked"}, "X-Many": {"1", "2"}, "Empty": {},
	}
	before := src.Clone()
	dst := http.Header{"X-Many": {"0"}}
	addHeader(dst, src)
	want := http.Header{"Content-Type": {"application/fhir+json"}, "X-Many": {"0", "1", "2"}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("copied %v, want %v", dst, want)
	}
	if !reflect.DeepEqual(src, before) {
		t.Errorf("the answer's headers changed: %v, were %v", src, before)
	}
}

// TestCloneEndToEnd: the provider's request headers are the consumer's
// less the hop-by-hop ones and those Connection names, the consumer's map
// unchanged; values past the one per key the shared array was made for
// (three keys of many here) are copied whole, and an append to one key's
// values never writes into another's.
func TestCloneEndToEnd(t *testing.T) {
	h := http.Header{
		"Accept": {"application/fhir+json"}, "Connection": {"X-Hop, keep-alive"}, "X-Hop": {"hop"},
		"Keep-Alive": {"timeout=5"}, "Te": {"trailers"}, "Proxy-Authorization": {"Basic eA=="},
		"X-A": {"1", "2", "3", "4"}, "X-B": {"5", "6", "7"}, "X-C": {"8", "9"}, "Nil": nil, "Empty": {},
	}
	before := h.Clone()
	got := cloneEndToEnd(h, 5)
	want := http.Header{"Accept": {"application/fhir+json"}, "X-A": {"1", "2", "3", "4"}, "X-B": {"5", "6", "7"}, "X-C": {"8", "9"}, "Nil": nil, "Empty": {}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cloned %v, want %v", got, want)
	}
	if !reflect.DeepEqual(h, before) {
		t.Errorf("the consumer's headers changed: %v, were %v", h, before)
	}
	for k := range got {
		got[k] = append(got[k], "added to "+k)
	}
	for k, vs := range want {
		if g := got[k]; !slices.Equal(g[:len(g)-1], vs) {
			t.Errorf("%s after every key had a value appended: %v, want %v and the appended one", k, g, vs)
		}
	}
}

// TestForwardedCachedLikeSetForwarded: the forwarding headers taken from
// the last request's are those setForwarded makes, request after request
// — the same client, another address, another host, over TLS, an IPv6
// client, an address that does not split, and a client that sent its own
// — and each value is a full slice of one, so an Add never writes into
// another request's.
func TestForwardedCachedLikeSetForwarded(t *testing.T) {
	s := &server{}
	reqs := []*http.Request{
		{RemoteAddr: "127.0.0.1:4001", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4001", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4002", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.2:4002", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4002", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.12:4002", Host: "sandbox.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4002", Host: "other.test:4000", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4002", Host: "other.test:4000", Header: http.Header{}, TLS: &tls.ConnectionState{}},
		{RemoteAddr: "[::1]:4003", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "pipe", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "[::1]:4004", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "::1:4004", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "::2:4004", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "pipe:", Host: "sandbox.test", Header: http.Header{}},
		{RemoteAddr: "127.0.0.1:4001", Host: "sandbox.test:4000", Header: http.Header{"X-Forwarded-For": {"10.0.0.1"}, "Forwarded": {"for=10.0.0.1"}}},
		{RemoteAddr: "127.0.0.1:4001", Host: "sandbox.test:4000", Header: http.Header{}},
	}
	for i, in := range reqs {
		got := http.Header{"X-Forwarded-For": {"stale"}, "X-Forwarded-Host": {"stale"}}
		want := got.Clone()
		s.setForwardedCached(got, in)
		setForwarded(want, in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("request %d: %v, want %v", i, got, want)
		}
		for k, vs := range got {
			if cap(vs) != len(vs) {
				t.Errorf("request %d: %s has room to grow into: cap %d", i, k, cap(vs))
			}
		}
	}
}

// TestAddrLessPort: an address is cut before its port only when
// net.SplitHostPort takes it, and two addresses cut alike have the same
// host to it.
func TestAddrLessPort(t *testing.T) {
	addrs := []string{"127.0.0.1:4000", "127.0.0.1:1", "127.0.0.12:4000", "[::1]:4000", "[::1]:5", "[fe80::1%eth0]:80",
		"host:80", ":80", "1.2.3.4:", "1.2.3.4", "::1:80", "::1", "[::1]", "[::1]x:80", "[a]b]:80", "a]b:80", "a[b:80",
		"[:80", "]:80", "[[::1]]:80", "127.0.0.1:80x", "127.0.0.1:+80", "", ":", "[]:80"}
	byKey := map[string]string{}
	for _, a := range addrs {
		key, ok := addrLessPort(a)
		host, _, err := net.SplitHostPort(a)
		if ok && err != nil {
			t.Errorf("%q: cut to %q, but SplitHostPort: %v", a, key, err)
			continue
		}
		if !ok {
			continue
		}
		if !strings.HasPrefix(a, key) || !strings.HasSuffix(key, ":") {
			t.Errorf("%q: cut to %q", a, key)
		}
		if h, seen := byKey[key]; seen && h != host {
			t.Errorf("%q: cut to %q as an address of host %q was, but its host is %q", a, key, h, host)
		}
		byKey[key] = host
	}
	if len(byKey) < 5 {
		t.Errorf("only %d addresses cut: %v", len(byKey), byKey)
	}
}

// TestMatchedKeptBounded: the SSP keeps the URLs targets were accepted
// with, gives each caller its own copy, keeps no refusal and no long
// target, and keeps at most maxMatched.
func TestMatchedKeptBounded(t *testing.T) {
	const root = "http://127.0.0.1:4000/provider/A20047/STU3/1/gpconnect"
	s := &server{}
	a, ok := s.matchRoot(root+"/metadata", root)
	if !ok {
		t.Fatal("refused")
	}
	a.Path = "/changed"
	b, _ := s.matchRoot(root+"/metadata", root)
	if b == a || b.Path != "/provider/A20047/STU3/1/gpconnect/metadata" {
		t.Errorf("the second caller got %v (the first's: %v)", b, b == a)
	}
	if _, ok := s.matchRoot(root+"/../x", root); ok || len(s.matched) != 1 {
		t.Errorf("a refusal: accepted %v, %d kept", ok, len(s.matched))
	}
	long := root + "/Slot?x=" + strings.Repeat("a", maxMatchedTarget)
	if _, ok := s.matchRoot(long, root); !ok || len(s.matched) != 1 {
		t.Errorf("a long target: accepted %v, %d kept", ok, len(s.matched))
	}
	for i := range 3 * maxMatched {
		if _, ok := s.matchRoot(root+"/Patient/"+strconv.Itoa(i), root); !ok {
			t.Fatal("refused")
		}
		if len(s.matched) > maxMatched {
			t.Fatalf("%d kept", len(s.matched))
		}
	}
}
