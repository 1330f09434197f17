package report

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// needTool skips a test whose outside checker (xmllint, the Mermaid parser)
// is not installed, with the command that installs it, but fails it under
// CI=true: .ci/run installs both, so a missing one there means the proof
// that the reports are valid silently stopped running.
func needTool(t *testing.T, what, install string, missing bool) {
	t.Helper()
	if !missing {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI=true (.ci/run should have installed it: %s)", what, install)
	}
	t.Skipf("%s is not installed, so this check is skipped (install it with: %s)", what, install)
}

// run runs a command with stdin, returning its stdout, stderr and exit code
// (-1 when it could not start or was killed).
func run(t *testing.T, stdin []byte, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &exit):
		return out.String(), errb.String(), exit.ExitCode()
	default:
		t.Fatalf("%s: %v", name, err)
		return "", "", -1
	}
}
