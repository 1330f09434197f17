package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

var update = flag.Bool("update", false, "rewrite the golden help texts in testdata/help")

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", "help", name+".txt")
	if *update {
		assert.NilError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		assert.NilError(t, os.WriteFile(file, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/gpc-consumer -run TestHelp -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./cmd/gpc-consumer -run TestHelp -update rewrites it):\n%s", name, file, got)
	}
}

// TestHelp: gpc-consumer -h, --help and help print the commands; each
// command's -h, --help and help COMMAND print every flag with its default,
// the GPC_* variables and the step legend; all on stdout with exit 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	call := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(args, env(nil), &out, &errb)
		assert.Equal(t, code, 0, strings.Join(args, " ")+" exit code; stderr: "+errb.String())
		assert.Equal(t, errb.String(), "", strings.Join(args, " ")+" stderr")
		return out.String()
	}
	top := call("--help")
	assert.Equal(t, call("-h"), top, "-h")
	assert.Equal(t, call("help"), top, "help")
	golden(t, "gpc-consumer", top)
	for _, cmd := range []string{"book", "slots", "appointments", "cancel", "amend"} {
		got := call(cmd, "-h")
		assert.Equal(t, call(cmd, "--help"), got, cmd+" --help")
		assert.Equal(t, call("help", cmd), got, "help "+cmd)
		assert.Equal(t, call(cmd, "--nhs-number", "9693632109", "--help"), got, cmd+" with flags, then --help")
		for _, want := range []string{"--ods CODE", "--from", "--channel", "--config", "GPC_PDS", "GPC_CONFIG", "1a PDS trace"} {
			assert.Contains(t, got, want, cmd+" help")
		}
		golden(t, cmd, got)
	}
}

func TestShortURL(t *testing.T) {
	t.Parallel()
	got := shortURL("http://127.0.0.1:4000/spine-directory/FHIR/R4/Endpoint?organization=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CA20047&identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhsservicesinteractionid%7Curn%3Anhs%3Anames%3Aservices%3Agpconnect%3Afhir%3Arest%3Asearch%3Aslot-1")
	assert.Equal(t, got, "/spine-directory/FHIR/R4/Endpoint?organization=ods-organization-code|A20047&identifier=nhsservicesinteractionid|rest:search:slot-1", "short URL")
	got = shortURL("http://127.0.0.1:4000/s/x/ssp/http://127.0.0.1:4000/s/x/provider/A20047/STU3/1/gpconnect/metadata")
	assert.Equal(t, got, "/s/x/ssp/…/s/x/provider/A20047/STU3/1/gpconnect/metadata", "SSP target")
}
