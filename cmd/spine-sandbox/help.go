package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
)

// Help: every command answers -h/--help (and `spine-sandbox help
// COMMAND`) on stdout with exit 0, listing its flags with their defaults
// and the environment variables it reads. The texts are checked against
// golden files in testdata/help (go test ./cmd/spine-sandbox -run
// TestHelp -update refreshes them).

// commandAbout says what each command does and how it is called.
var commandAbout = map[string]struct{ usage, about string }{
	"serve": {"spine-sandbox serve [flags]",
		"Serve the sandbox: mock PDS and SDS (FHIR R4, and SDS over LDAP), the Spine Secure Proxy, the fake GP\n" +
			"Connect provider, the admin API (/_admin/, docs/admin-api.yaml) and the live UI, on one listener.\n" +
			"Expected output: a line with the URLs, then one log line per request refused or failed."},
	"check": {"spine-sandbox check [--format text|github] PATH...",
		"Validate scenario files, or folders of them (recursively), without running them. Prints \"ok  FILE\"\n" +
			"for each good file and FILE:LINE:COLUMN: MESSAGE for every mistake; exit 1 when any file has one."},
	"run": {"spine-sandbox run [flags] PATH...",
		"Run scenario files or folders, each in its own session of one in-process sandbox, and judge each\n" +
			"against its expect:. Flags may come before or after the paths. Exit 0 only when every scenario passes.\n" +
			"Expected output: one PASS line per passing scenario, the failures in full and a summary of them, then\n" +
			"\"N passed, N failed in T\"."},
	"health": {"spine-sandbox health [--url URL] [--timeout D] [--ca FILE] [-q]",
		"Exit 0 when the sandbox at --url answers GET /_admin/health with 200 (the image's HEALTHCHECK)."},
	"certs": {"spine-sandbox certs --out DIR [--host NAME]... [--scenario FILE]",
		"Write a throw-away test PKI for serve --tls: the CA and its CRL, the server's certificate, the\n" +
			"consumer's (CN = its FQDN), the SSP's, one per practice, and the bad ones under DIR/bad/."},
}

// commandEnvs are the environment variables each command reads.
var commandEnvs = map[string][]clihelp.Env{
	"serve": {
		{Name: "SPINE_SANDBOX_ADDR", Flag: "--addr"},
		{Name: "SPINE_SANDBOX_PUBLIC_URL", Flag: "--public-url"},
		{Name: "SPINE_SANDBOX_SCENARIO", Flag: "--scenario"},
		{Name: "SPINE_SANDBOX_SCENARIOS", Flag: "--scenarios-dir"},
		{Name: "SPINE_SANDBOX_FIXTURES", Flag: "--fixtures"},
		{Name: "SPINE_SANDBOX_LENIENT", Flag: "--lenient (true)"},
		{Name: "SPINE_SANDBOX_UPSTREAMS", Flag: "--upstream (comma-separated)"},
		{Name: "SPINE_SANDBOX_ADMIN_TOKEN", Flag: "--admin-token"},
		{Name: "SPINE_SANDBOX_INSECURE_ADMIN", Flag: "--insecure-admin (true)"},
		{Name: "SPINE_SANDBOX_LDAP_ADDR", Flag: "--ldap-addr"},
		{Name: "SPINE_SANDBOX_TRUST_FORWARDED", Flag: "--trust-forwarded (true)"},
		{Name: "SPINE_SANDBOX_TLS", Flag: "--tls"},
		{Name: "SPINE_SANDBOX_TLS_VERSIONS", Flag: "--tls-versions"},
	},
	"run": {
		{Name: "NO_COLOR", Flag: "any value turns colour off (colour is used only on a terminal)"},
	},
	"health": {
		{Name: "SPINE_SANDBOX_HEALTH_URL", Flag: "--url"},
		{Name: "SPINE_SANDBOX_HEALTH_CA", Flag: "--ca"},
	},
}

// hiddenFlags are old names kept working but not listed.
var hiddenFlags = map[string][]string{"serve": {"fixtures-dir"}}

// commandHelp is the -h/--help text of command, whose flags are fs's.
func commandHelp(command string, fs *flag.FlagSet) string {
	a := commandAbout[command]
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s\n\nflags:\n", a.usage, a.about)
	b.WriteString(clihelp.Flags(fs, hiddenFlags[command]...))
	b.WriteString(clihelp.Envs(commandEnvs[command]))
	return b.String()
}

// helpRequested is parseServe's answer to -h/--help: the text to print
// on stdout, exit 0.
type helpRequested string

func (h helpRequested) Error() string { return string(h) }

// setUsage makes a flag error print the command's help on fs's output.
func setUsage(command string, fs *flag.FlagSet) {
	fs.Usage = func() { fmt.Fprint(fs.Output(), "\n"+commandHelp(command, fs)) }
}
