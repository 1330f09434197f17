// Package version words what a binary was built from, for --version: the
// module version `go install …@vX.Y.Z` stamps, or "(devel)" for a build in
// a checkout, with the VCS revision and time Go records when it builds
// from a repository.
package version

import (
	"runtime/debug"
	"strings"
)

// String is "NAME VERSION (revision REV[, modified], TIME) GOVERSION".
func String(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information)"
	}
	return format(name, bi)
}

func format(name string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var vcs []string
	if rev != "" {
		r := "revision " + rev[:min(12, len(rev))]
		if modified {
			r += ", modified"
		}
		vcs = append(vcs, r)
	}
	if at != "" {
		vcs = append(vcs, at)
	}
	out := name + " " + v
	if len(vcs) > 0 {
		out += " (" + strings.Join(vcs, ", ") + ")"
	}
	if bi.GoVersion != "" {
		out += " " + bi.GoVersion
	}
	return out
}
