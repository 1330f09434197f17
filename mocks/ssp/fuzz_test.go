package ssp

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzMatchRoot: matchRoot is the SSP's whole defence against being an
// open proxy, so for any target and root it must not panic, and whatever
// it accepts must begin with the root byte for byte, carry no userinfo,
// fragment or opaque part, go to the root's own scheme and host, and print
// back as the target itself (what is checked is what is sent).
func FuzzMatchRoot(f *testing.F) {
	const root = "http://127.0.0.1:4000/provider/A20047/STU3/1/gpconnect"
	for _, seed := range []struct{ target, root string }{
		{root + "/Slot?status=free&start=ge2026-01-01", root},
		{root, root},
		{root + "?", root},
		{root + "/Patient/1/Appointment", root},
		{root + "@evil.example/Slot", root},
		{"http://127.0.0.1:4000@evil.example/provider/A20047/STU3/1/gpconnect/Slot", root},
		{root + "/%2e%2e/%2e%2e/_admin", root},
		{root + "/..;/x", root},
		{root + `\..\x`, root},
		{root + "/Slot#frag", root},
		{root + "/a%2Fb", root},
		{"https://[::1]:8443/gp/Slot", "https://[::1]:8443/gp"},
		{"http://user@h/gp/Slot", "http://user@h/gp"},
		{"http://h/gp/Slot", "http://h/gp/"},
		{"http://h:/gp", "http://h:"},
		{"", ""},
	} {
		f.Add(seed.target, seed.root)
	}
	s := &server{} // its roots parsed once, for every input
	f.Fuzz(func(t *testing.T, target, root string) {
		u, ok := matchRoot(target, root)
		for range 2 { // parsing the root and the target, then their copies
			if su, sok := s.matchRoot(target, root); sok != ok || sok && *su != *u {
				t.Fatalf("the server's matchRoot(%q, %q) = %v, %v; matchRoot's %v, %v", target, root, su, sok, u, ok)
			}
		}
		if !ok {
			if u != nil {
				t.Fatalf("refused %q under %q but returned a URL %v", target, root, u)
			}
			return
		}
		if !strings.HasPrefix(target, root) {
			t.Fatalf("accepted %q, which does not start with the root %q", target, root)
		}
		if u.User != nil || u.Fragment != "" || u.RawFragment != "" || u.Opaque != "" {
			t.Fatalf("accepted %q with userinfo, fragment or opaque part: %#v", target, u)
		}
		if got := u.String(); got != target {
			t.Fatalf("accepted %q but would send %q", target, got)
		}
		ru, err := url.Parse(root)
		if err != nil {
			t.Fatalf("accepted %q under a root that does not parse: %q", target, root)
		}
		back, err := url.Parse(u.String())
		if err != nil {
			t.Fatalf("the accepted URL %q does not parse back: %v", u, err)
		}
		if back.Host != ru.Host || back.Scheme != ru.Scheme || u.Host != ru.Host {
			t.Fatalf("accepted %q going to %s://%s, not the root's %s://%s", target, back.Scheme, back.Host, ru.Scheme, ru.Host)
		}
		if back.User != nil || back.Fragment != "" {
			t.Fatalf("accepted %q parses back with userinfo or a fragment", target)
		}
		if !strings.HasPrefix(back.EscapedPath(), ru.EscapedPath()) {
			t.Fatalf("accepted %q with path %q outside the root's %q", target, back.EscapedPath(), ru.EscapedPath())
		}
	})
}
