package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// haproxySessions is smaller than the nginx test's 300: this test is about
// the HAProxy configuration routing by id, the nginx one about scale.
const haproxySessions = 60

// TestScaleOutBehindHAProxy: deploy/haproxy/haproxy.cfg in front of three
// replicas routes every session to one replica (each holds some, runs
// pass through HAProxy's address), and a stopped replica's sessions answer
// a JSON error through HAProxy while the others keep passing.
func TestScaleOutBehindHAProxy(t *testing.T) {
	bin := binary(t, "haproxy")
	public := "http://" + freeLoopbackAddr(t)
	replicas := make([]*served, scaleReplicas)
	for i := range replicas {
		replicas[i] = startServe(t, noenv, "--addr", "127.0.0.1:0", "--public-url", public,
			"--scenarios-dir", "../../scenarios", "--fixtures-dir", "../../fixtures", "--shutdown-grace", "20s")
	}
	cfg, err := os.ReadFile("../../deploy/haproxy/haproxy.cfg")
	assert.NilError(t, err)
	subst := []string{"bind 127.0.0.1:4000", "bind " + strings.TrimPrefix(public, "http://")}
	for i, sv := range replicas {
		subst = append(subst, fmt.Sprintf("127.0.0.1:%d check", 4001+i), sv.addr+" check")
	}
	conf := strings.NewReplacer(subst...).Replace(string(cfg))
	for i, sv := range replicas {
		if !strings.Contains(conf, sv.addr) {
			t.Fatalf("replica %d's address is not in the configuration:\n%s", i, conf)
		}
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	assert.NilError(t, os.WriteFile(path, []byte(conf), 0o600))
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = out, out
	assert.NilError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	waitHealthy(t, public, exited, out)

	hc := &http.Client{Timeout: 30 * time.Second}
	ids := make([]string, haproxySessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("hap-%03d", i)
	}
	forEach(t, ids, func(id string) error { return putSession(hc, public, id, http.StatusCreated) })
	forEach(t, ids, func(id string) error { return runAndPass(hc, public, id) })
	home, held := sessionHomes(t, hc, replicas)
	for i, n := range held {
		if n == 0 {
			t.Errorf("replica %d holds no session: HAProxy does not spread them", i)
		}
	}
	assert.Equal(t, len(home), haproxySessions, "sessions found on the replicas, each on one")

	assert.Equal(t, replicas[0].exit(t), 0, "the stopped replica's exit code")
	forEach(t, ids, func(id string) error {
		if home[id] != 0 {
			if err := putSession(hc, public, id, http.StatusOK); err != nil {
				return err
			}
			return runAndPass(hc, public, id)
		}
		status, body, err := call(hc, "GET", public+"/_admin/sessions/"+id+"/verdict", "")
		if err != nil {
			return err
		}
		if (status != http.StatusNotFound && status != http.StatusServiceUnavailable) || !strings.Contains(string(body), `"detail"`) {
			return fmt.Errorf("a session of the stopped replica answered %d %s: want a JSON error", status, body)
		}
		return nil
	})
}

// binary finds a load balancer's executable; without it the test skips,
// or fails under CI=true (.ci/run installs it).
func binary(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{name, "/usr/sbin/" + name} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: .ci/run installs Debian's %s", name, name)
	}
	t.Skipf("%s is not installed (apt-get install %s)", name, name)
	return ""
}

// waitHealthy waits (bounded) for base's /_admin/health to answer 200
// through the load balancer, failing when the load balancer exits.
func waitHealthy(t *testing.T, base string, exited <-chan error, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/_admin/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the load balancer exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load balancer did not answer on %s: %v\n%s", base, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
