package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
)

// health is `spine-sandbox health [--url URL] [--timeout D]`: exit 0 when
// the sandbox at URL answers GET /_admin/health with 200, 1 otherwise. It
// is the image's HEALTHCHECK (distroless has no curl) and what compose's
// `condition: service_healthy` waits on; the health endpoint needs no
// admin token.
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := getenv("SPINE_SANDBOX_HEALTH_URL")
	if def == "" {
		def = "http://127.0.0.1:4000"
	}
	url := fs.String("url", def, "the sandbox's base URL (env SPINE_SANDBOX_HEALTH_URL)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	quiet := fs.Bool("q", false, "print nothing when healthy")
	caFile := fs.String("ca", getenv("SPINE_SANDBOX_HEALTH_CA"), "PEM CA to trust for an https:// URL (serve --tls's ca.pem; env SPINE_SANDBOX_HEALTH_CA); the health endpoint needs no client certificate")
	setUsage("health", fs)
	if clihelp.Wants(args) {
		fmt.Fprint(stdout, commandHelp("health", fs))
		return 0
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err, stderr)
	}
	if fs.NArg() > 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "usage: spine-sandbox health [--url URL] [--ca FILE] [--timeout D] [-q]")
		return 2
	}
	target := strings.TrimSuffix(*url, "/") + "/_admin/health"
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		fmt.Fprintln(stderr, "spine-sandbox health:", err)
		return 2
	}
	// A plain client: no proxy from the environment between a container
	// and itself.
	tr := &http.Transport{Proxy: nil}
	if *caFile != "" {
		pool := x509.NewCertPool()
		if err := pki.AddPEMFile(pool, *caFile); err != nil {
			fmt.Fprintln(stderr, "spine-sandbox health: --ca:", err)
			return 2
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	res, err := hc.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "spine-sandbox health: not ready:", err)
		return 1
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "spine-sandbox health: not ready: %s answered %s\n", target, res.Status)
		return 1
	}
	if !*quiet {
		fmt.Fprintln(stdout, "ok", target)
	}
	return 0
}
