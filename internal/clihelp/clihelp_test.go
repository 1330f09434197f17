package clihelp_test

import (
	"flag"
	"io"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
)

func TestParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args      []string
		wantPos   []string
		wantJUnit string
	}{
		{[]string{"--junit", "x.xml", "a", "b"}, []string{"a", "b"}, "x.xml"},
		{[]string{"a", "--junit", "x.xml", "b"}, []string{"a", "b"}, "x.xml"},
		{[]string{"a", "b", "--junit=x.xml"}, []string{"a", "b"}, "x.xml"},
		{[]string{"a", "--", "--junit", "x.xml"}, []string{"a", "--junit", "x.xml"}, ""},
		{[]string{"--", "-a"}, []string{"-a"}, ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		junit := fs.String("junit", "", "")
		pos, err := clihelp.Parse(fs, tt.args)
		assert.NilError(t, err)
		assert.DeepEqual(t, pos, tt.wantPos, "positional")
		assert.Equal(t, *junit, tt.wantJUnit, "junit")
	}
	assert.Equal(t, clihelp.Wants([]string{"x", "--help"}), true, "--help")
	assert.Equal(t, clihelp.Wants([]string{"--", "-h"}), false, "after --")
}
