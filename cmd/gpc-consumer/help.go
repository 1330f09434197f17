package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
)

// Help: gpc-consumer -h/--help/help prints the commands, `gpc-consumer
// COMMAND -h` and `gpc-consumer help COMMAND` the command's flags with
// their defaults and the GPC_* variables, on stdout with exit 0. Golden
// files in testdata/help (go test ./cmd/gpc-consumer -run TestHelp
// -update).

// envs are the environment variables gpc-consumer reads; a flag beats its
// variable, which beats --config's file.
var envs = []clihelp.Env{
	{Name: "GPC_CONFIG", Flag: "--config"},
	{Name: "GPC_PDS", Flag: "--pds"},
	{Name: "GPC_SDS", Flag: "--sds"},
	{Name: "GPC_SSP", Flag: "--ssp"},
	{Name: "GPC_ASID", Flag: "--asid"},
	{Name: "GPC_ODS_SELF", Flag: "--ods-self"},
	{Name: "GPC_ORG_NAME", Flag: "--org-name"},
	{Name: "GPC_APIKEY", Flag: "--apikey"},
}

// helpRequested is parseConfig's answer to -h/--help: the text to print.
type helpRequested string

func (h helpRequested) Error() string { return string(h) }

func commandHelp(command string, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: gpc-consumer %s [flags]\n\n%s.\n", command, strings.ToUpper(commands[command][:1])+commands[command][1:])
	b.WriteString("Prints each request as it goes (step id, service, method, path, status; -v for full URLs), then the\n" +
		"result; --json prints one JSON result instead. Exit 0 on success, 1 when Spine or the provider refuses,\n" +
		"2 on a usage error.\n\nflags:\n")
	b.WriteString(clihelp.Flags(fs))
	b.WriteString(clihelp.Envs(envs))
	b.WriteString("\n" + stepLegend)
	return b.String()
}

// stepLegend explains the step ids of the seed sequence diagram that each
// request line starts with; the replies carry the next letter.
const stepLegend = `steps (the ids of the GP Connect sequence diagram; a reply carries the next letter, e.g. 1b):
  1a PDS trace · 2a SDS endpoint lookup · 2c SDS device (ASID) lookup · 3a provider capability statement
  4a search free slots · 5a find the patient · branch register the patient · 6a book · read an appointment
`

// shortURL is what a request line shows without -v: the path (an SSP
// target's too, without its scheme and host) and the query decoded, with
// the long NHS system prefixes left out and clipped, not the whole
// URL-encoded URL.
func shortURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	s := u.Path
	if i := strings.Index(s, "/http"); i >= 0 {
		if t, err := url.Parse(s[i+1:]); err == nil && t.Host != "" {
			s = s[:i+1] + "…" + t.Path
		}
	}
	if u.RawQuery != "" {
		q, err := url.QueryUnescape(u.RawQuery)
		if err != nil {
			q = u.RawQuery
		}
		q = strings.NewReplacer("https://fhir.nhs.uk/Id/", "", "urn:nhs:names:services:gpconnect:fhir:", "").Replace(q)
		if r := []rune(q); len(r) > 100 {
			q = string(r[:100]) + "…"
		}
		s += "?" + q
	}
	return s
}
