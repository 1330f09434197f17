package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// hostList is the repeatable --host flag.
type hostList []string

func (h *hostList) String() string     { return fmt.Sprint(*h) }
func (h *hostList) Set(v string) error { *h = append(*h, v); return nil }

// certs writes a throw-away test PKI for a world (issue 11): the CA and
// its CRL, the sandbox's server certificate, the consumer's (CN = the FQDN
// its ASID is registered with), the SSP's, one per practice's provider and
// the bad ones under bad/.
func certs(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "folder to write the PEM files to (made if missing; files in it are replaced)")
	var hosts hostList
	fs.Var(&hosts, "host", "a name or IP address for the server certificate besides localhost, 127.0.0.1 and ::1; repeatable")
	file := fs.String("scenario", "", "scenario whose consumer and practices get certificates (default: the built-in world)")
	setUsage("certs", fs)
	if clihelp.Wants(args) {
		fmt.Fprint(stdout, commandHelp("certs", fs))
		return 0
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err, stderr)
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, commandHelp("certs", fs))
		return 2
	}
	sc := scenario.Default()
	if *file != "" {
		var err error
		if sc, err = scenario.LoadFile(*file); err != nil {
			fmt.Fprintln(stderr, "spine-sandbox certs:", err)
			return 1
		}
	}
	o := pki.Options{Hosts: hosts, Providers: map[string][]string{}}
	if c := sc.Consumer; c != nil {
		o.ConsumerFQDN = world.ConsumerSystem{ODS: string(c.ODS), FQDN: c.FQDN}.RegisteredFQDN()
	}
	for _, p := range sc.Practices {
		names := []string{world.Practice{ODS: string(p.ODS), FQDN: p.FQDN, Endpoint: p.Endpoint}.RegisteredFQDN()}
		if u, err := url.Parse(p.Endpoint); err == nil && u.Hostname() != "" && u.Hostname() != names[0] {
			names = append(names, u.Hostname()) // a real system's endpoint: its certificate names its host
		}
		o.Providers[string(p.ODS)] = names
	}
	files, err := pki.Generate(*out, o)
	if err != nil {
		fmt.Fprintln(stderr, "spine-sandbox certs:", err)
		return 1
	}
	fmt.Fprintf(stdout, "spine-sandbox certs: %d files in %s (test only: ECDSA P-256, a CA valid 5 years, leaves 1 year)\n", len(files), *out)
	fmt.Fprintf(stdout, "  consumer  %s (CN %s)\n  ssp       %s (CN %s)\n  serve     spine-sandbox serve --tls %s\n", pki.ConsumerFile, o.ConsumerFQDN, pki.SSPFile, pki.SSPFQDN, *out)
	return 0
}
