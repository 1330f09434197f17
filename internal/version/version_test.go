package version

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, "spine-sandbox v1.2.3 go1.26.8"},
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "a657ca0f0e1d2c3b4a5968778695a4b3c2d1e0f9"}, {Key: "vcs.time", Value: "2026-11-29T02:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"spine-sandbox (devel) (revision a657ca0f0e1d, modified, 2026-11-29T02:00:00Z) go1.26.8"},
		{"no version", debug.BuildInfo{}, "spine-sandbox (devel)"},
	} {
		assert.Equal(t, format("spine-sandbox", &tt.bi), tt.want, tt.name)
	}
	if s := String("x"); !strings.HasPrefix(s, "x ") {
		t.Errorf("String: %q", s)
	}
}
