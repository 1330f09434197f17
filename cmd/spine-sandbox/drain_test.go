package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// slowRun is a scenario whose built-in run takes about drainRunDelay: its
// first PDS answer is held that long (within the run's timeout).
const slowRun = `name: slow run
extends: builtin
faults:
  - hop: pds
    delay: 3s
    times: 1
run:
  consumer: builtin
  action: book
  nhs_number: "9693632109"
  from: +1d
  to: +8d
  prefer: {first: true}
  timeout: 10s
expect:
  outcome: booked
`

// TestServeDrainsOnSignal: on SIGTERM with a run in flight, serve reports
// draining on /_admin/health (503, for the load balancer), refuses new
// sessions (503), lets the run finish instead of cancelling it, then exits
// 0. Before, the signal cancelled the run at once.
func TestServeDrainsOnSignal(t *testing.T) {
	t.Parallel()
	// A fixed port: the built-in consumer reaches the sandbox at its public
	// URL, which defaults to http://<addr>.
	sv := startServe(t, noenv, "--addr", freeLoopbackAddr(t), "--shutdown-grace", "20s")
	base := "http://" + sv.addr
	hc := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest("PUT", base+"/_admin/sessions/slow", strings.NewReader(slowRun))
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := hc.Do(req)
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 201, "PUT the slow session")
	status, body, err := call(hc, "POST", base+"/_admin/sessions/slow/run", "")
	assert.NilError(t, err)
	assert.Equal(t, status, 202, "run: "+string(body))

	signalled := time.Now()
	exited := make(chan int, 1)
	go func() { exited <- sv.exit(t) }()
	// Draining is reported as soon as serve has seen the signal.
	var health string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		status, body, err := call(hc, "GET", base+"/_admin/health", "")
		if err == nil && status == http.StatusServiceUnavailable {
			health = string(body)
			break
		}
	}
	assert.Contains(t, health, `"status": "draining"`, "health while draining")
	status, body, err = call(hc, "PUT", base+"/_admin/sessions/another", "")
	assert.NilError(t, err)
	assert.Equal(t, status, http.StatusServiceUnavailable, "a new session while draining: "+string(body))
	assert.Contains(t, string(body), "draining", "the refusal says why")

	select {
	case code := <-exited:
		assert.Equal(t, code, 0, "exit code: "+sv.errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not exit")
	}
	// The run had about 3 s to go: serve waited for it rather than cutting it.
	if waited := time.Since(signalled); waited < 2*time.Second {
		t.Errorf("serve exited %v after the signal: it did not wait for the run", waited)
	}
	if strings.Contains(sv.errb.String(), "running the scenario") {
		t.Errorf("the run failed: %s", sv.errb.String())
	}
}
