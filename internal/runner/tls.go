package runner

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// tlsRun is what `run --tls` adds to a run: a throw-away PKI (as
// `spine-sandbox certs` writes) for the in-process sandbox's listener and
// certificate checks, and the built-in consumer's transports, one per
// client certificate, sharing the run's connection settings.
type tlsRun struct {
	dir     string
	sandbox *sandbox.TLSConfig
	server  *tls.Config     // the listener's: Spine's TLS 1.2 and ciphers
	base    *http.Transport // set by Run once made

	mu         sync.Mutex
	transports map[string]*http.Transport // by certificate file name ("" for none)
}

// newTLSRun writes the PKI into a temporary folder; close removes it.
func newTLSRun() (*tlsRun, error) {
	dir, err := os.MkdirTemp("", "spine-sandbox-run-tls-")
	if err != nil {
		return nil, err
	}
	t := &tlsRun{dir: dir, transports: map[string]*http.Transport{}}
	if _, err := pki.Generate(dir, pki.Options{ConsumerFQDN: world.ConsumerFQDN(string(scenario.Default().Consumer.ODS))}); err != nil {
		t.close()
		return nil, err
	}
	if t.sandbox, err = sandbox.LoadTLS(dir); err != nil {
		t.close()
		return nil, err
	}
	if t.server, err = pki.ServerConfig(dir, false); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *tlsRun) close() {
	t.mu.Lock()
	for _, tr := range t.transports {
		tr.CloseIdleConnections()
	}
	t.mu.Unlock()
	_ = os.RemoveAll(t.dir)
}

// transport is the built-in consumer's transport for scenario sc: its
// consumer's own certificate (issued for the FQDN its world registers), or
// the one run.tls.client names.
func (t *tlsRun) transport(sc *scenario.Scenario, w *world.World) (http.RoundTripper, error) {
	name := "consumer-" + w.Consumer().RegisteredFQDN()
	if sc.Run != nil && sc.Run.TLS != nil {
		switch c := string(sc.Run.TLS.Client); c {
		case "", "consumer":
		case "none":
			name = ""
		default:
			name = filepath.Join(pki.BadDir, c)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.transports[name]; ok {
		return tr, nil
	}
	if fqdn, ok := strings.CutPrefix(name, "consumer-"); ok {
		if err := pki.Issue(t.dir, name, fqdn); err != nil {
			return nil, err
		}
	}
	c, err := pki.ClientConfig(t.dir, name)
	if err != nil {
		return nil, err
	}
	tr := t.base.Clone()
	tr.TLSClientConfig = c
	t.transports[name] = tr
	return tr, nil
}

// SkipReason says why a scenario is not run with opts ("" when it is): a
// scenario choosing a client certificate (run.tls) runs only over mutual
// TLS.
func SkipReason(sc *scenario.Scenario, opts Options) string {
	if !opts.TLS && sc.Run != nil && sc.Run.TLS != nil {
		return "run.tls: runs only under spine-sandbox run --tls"
	}
	return ""
}

// Failed reports whether the scenario ran and did not meet its
// expectations: a skipped one has not.
func (r Result) Failed() bool { return !r.Passed && r.Skipped == "" }

// Counts counts results that passed, failed and were skipped.
func Counts(results []Result) (passed, failed, skipped int) {
	for _, r := range results {
		switch {
		case r.Skipped != "":
			skipped++
		case r.Passed:
			passed++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

// skippedText is ", N skipped" for summary lines, "" when none was: the
// line keeps its "N passed, M failed" shape first.
func skippedText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d skipped", n)
}

// SkippedText is skippedText for the reports.
func SkippedText(results []Result) string {
	_, _, n := Counts(results)
	return skippedText(n)
}
