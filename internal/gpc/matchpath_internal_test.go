package gpc

import (
	"strings"
	"testing"
)

// splitMatch is matchPath as it was written before it stopped splitting:
// the reference TestMatchPathSameAsSplit holds it to.
func splitMatch(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if strings.HasSuffix(path, "/") && len(path) > 1 || len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if p == "{id}" {
			if xs[i] == "" || strings.HasPrefix(xs[i], "$") {
				return false
			}
		} else if p != xs[i] {
			return false
		}
	}
	return true
}

// TestMatchPathSameAsSplit: the allocation-free matcher agrees with the
// splitting one on every interaction's pattern and paths around it.
func TestMatchPathSameAsSplit(t *testing.T) {
	t.Parallel()
	paths := []string{"", "/", "//", "/metadata", "metadata", "/metadata/", "//metadata", "/Slot", "/Slot/x",
		"/Patient", "/Patient/1", "/Patient/", "/Patient//", "/Patient/$gpc.registerpatient", "/Patient/1/Appointment",
		"/Patient//Appointment", "/Patient/$x/Appointment", "/Appointment", "/Appointment/9", "/Appointment/9/x",
		"/Organization/1", "/Location/2", "/Practitioner", "/Practitioner/3", "/a/b/c/d", "/Patient/1/Appointment/"}
	n := 0
	for _, in := range Interactions {
		for _, pattern := range []string{in.Path, "/", "", "/{id}", "/{id}/x"} {
			for _, p := range paths {
				if got, want := matchPath(pattern, p), splitMatch(pattern, p); got != want {
					t.Errorf("matchPath(%q, %q) = %v, want %v", pattern, p, got, want)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no cases")
	}
}
