package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// Issue 19's proof that the sandbox scales out behind an off-the-shelf
// load balancer: three `serve` replicas on loopback ports, Debian's nginx
// in front with the repo's deploy/nginx/spine-sandbox.conf, sessions
// created by id through nginx and routed by nginx's consistent hash.
const (
	scaleSessions = 300
	scaleReplicas = 3
	// scaleWorkers is how many sessions are driven at once: under the
	// replicas' --max-runs (8 each) so no run is refused for the cap.
	scaleWorkers = 6
)

// TestScaleOutBehindNginx: 300 sessions PUT through nginx each run the
// happy path (the built-in consumer, whose URLs point at nginx) and pass;
// each replica holds roughly a third. One replica is stopped: its
// sessions answer a clear JSON error through nginx, can be PUT again onto
// a live replica, and the other replicas' sessions keep passing.
func TestScaleOutBehindNginx(t *testing.T) {
	bin := binary(t, "nginx")
	began := time.Now()
	public := "http://" + freeLoopbackAddr(t)
	replicas := make([]*served, scaleReplicas)
	for i := range replicas {
		replicas[i] = startServe(t, noenv, "--addr", "127.0.0.1:0", "--public-url", public,
			"--scenarios-dir", "../../scenarios", "--fixtures-dir", "../../fixtures", "--shutdown-grace", "20s")
	}
	startNginx(t, bin, strings.TrimPrefix(public, "http://"), replicas)
	hc := &http.Client{Timeout: 30 * time.Second}

	ids := make([]string, scaleSessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("team-%03d", i)
	}
	forEach(t, ids, func(id string) error {
		return putSession(hc, public, id, http.StatusCreated)
	})
	forEach(t, ids, func(id string) error { return runAndPass(hc, public, id) })
	t.Logf("%d sessions created and run through nginx in %v", len(ids), time.Since(began).Round(time.Millisecond))

	// Where nginx put them: each replica's own session list.
	home, held := sessionHomes(t, hc, replicas) // session id → replica index
	for i, n := range held {
		if n < scaleSessions/scaleReplicas/2 || n > scaleSessions/scaleReplicas*3/2 {
			t.Errorf("replica %d holds %d of %d sessions: want roughly a third", i, n, scaleSessions)
		}
	}
	assert.Equal(t, len(home), scaleSessions, "sessions found on the replicas")

	// One replica goes (SIGTERM: drain, then exit).
	assert.Equal(t, replicas[0].exit(t), 0, "the stopped replica's exit code: "+replicas[0].errb.String())
	var lost, kept []string
	for _, id := range ids {
		if home[id] == 0 {
			lost = append(lost, id)
		} else {
			kept = append(kept, id)
		}
	}
	forEach(t, lost, func(id string) error {
		status, body, err := call(hc, "GET", public+"/_admin/sessions/"+id+"/verdict", "")
		if err != nil {
			return err
		}
		var e struct{ Detail string }
		if json.Unmarshal(body, &e) != nil || (status != http.StatusNotFound && status != http.StatusServiceUnavailable) || !strings.Contains(e.Detail, "session") {
			return fmt.Errorf("a session of the stopped replica answered %d %s: want a JSON error saying the session is gone", status, body)
		}
		return nil
	})
	forEach(t, kept, func(id string) error {
		// Replacing (200) resets the session's world, so the happy path
		// can book again.
		if err := putSession(hc, public, id, http.StatusOK); err != nil {
			return err
		}
		return runAndPass(hc, public, id)
	})
	// A lost session can be made again: it lands on a live replica.
	forEach(t, lost[:min(10, len(lost))], func(id string) error {
		if err := putSession(hc, public, id, http.StatusCreated); err != nil {
			return err
		}
		return runAndPass(hc, public, id)
	})
	t.Logf("after replica 0 stopped: %d sessions lost, %d still pass; whole test %v", len(lost), len(kept), time.Since(began).Round(time.Millisecond))
}

// freeLoopbackAddr is a loopback address free a moment ago, for nginx to
// listen on: the replicas need nginx's address (--public-url) before it
// starts.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startNginx runs nginx in the foreground with the repo's configuration
// for the replicas, every file under a temporary prefix, until the test
// ends.
func startNginx(t *testing.T, bin, listen string, replicas []*served) {
	t.Helper()
	tmpl, err := os.ReadFile("../../deploy/nginx/spine-sandbox.conf")
	assert.NilError(t, err)
	subst := []string{"${LISTEN}", listen}
	for i, sv := range replicas {
		subst = append(subst, fmt.Sprintf("${REPLICA_%d}", i+1), sv.addr)
	}
	site := strings.NewReplacer(subst...).Replace(string(tmpl))
	if strings.Contains(site, "${") {
		t.Fatalf("a placeholder is left in the nginx configuration:\n%s", site)
	}
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		// As root nginx's workers would become nobody, who cannot enter
		// the test's private temporary directory.
		user = "user root;"
	}
	main := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/spine-sandbox.conf;
}
`, user, dir)
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "spine-sandbox.conf"), []byte(site), 0o600))
	conf := filepath.Join(dir, "nginx.conf")
	assert.NilError(t, os.WriteFile(conf, []byte(main), 0o600))
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = out, out
	assert.NilError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // nginx's fast shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + listen + "/_admin/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer on %s: %v", listen, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forEach calls fn for every id, scaleWorkers at a time, and fails the
// test with the first few errors; after three it starts no more, so a
// broken configuration fails in about one run's deadline, not hundreds.
func forEach(t *testing.T, ids []string, fn func(id string) error) {
	t.Helper()
	work := make(chan string)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for range scaleWorkers {
		wg.Go(func() {
			for id := range work {
				if err := fn(id); err != nil {
					mu.Lock()
					errs = append(errs, id+": "+err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		mu.Lock()
		failing := len(errs) >= 3 // enough to tell why: stop rather than wait out every deadline
		mu.Unlock()
		if failing {
			break
		}
		work <- id
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d failed (the rest were not tried), first: %s", len(errs), len(ids), strings.Join(errs[:min(3, len(errs))], "\n"))
	}
}

func call(hc *http.Client, method, url, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// putSession creates (or replaces) session id on the happy path and
// checks the URLs it is given point at the load balancer.
func putSession(hc *http.Client, base, id string, want int) error {
	status, body, err := call(hc, "PUT", base+"/_admin/sessions/"+id, `{"scenario": "happy-path"}`)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("PUT answered %d, want %d: %s", status, want, body)
	}
	var info struct{ URLs struct{ SSP string } }
	if err := json.Unmarshal(body, &info); err != nil {
		return err
	}
	if wantSSP := base + "/s/" + id + "/ssp/"; info.URLs.SSP != wantSSP {
		return fmt.Errorf("the session's SSP URL is %q, want %q (the load balancer's)", info.URLs.SSP, wantSSP)
	}
	return nil
}

// runAndPass starts the built-in consumer on session id and polls its
// verdict until it passes (bounded: a happy-path run takes well under a
// second here).
func runAndPass(hc *http.Client, base, id string) error {
	status, body, err := call(hc, "POST", base+"/_admin/sessions/"+id+"/run", "")
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("run answered %d: %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		status, body, err = call(hc, "GET", base+"/_admin/sessions/"+id+"/verdict", "")
		if err != nil {
			return err
		}
		var v struct{ Passed bool }
		if status == http.StatusOK && json.Unmarshal(body, &v) == nil && v.Passed {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the verdict did not pass within 20 s: %d %s", status, body)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sessionHomes asks each replica directly which named sessions it holds:
// the replica index of each session id, and how many each replica holds.
func sessionHomes(t *testing.T, hc *http.Client, replicas []*served) (map[string]int, []int) {
	t.Helper()
	home, held := map[string]int{}, make([]int, len(replicas))
	for i, sv := range replicas {
		for _, id := range replicaSessions(t, hc, sv.addr) {
			if id != "default" {
				home[id] = i
				held[i]++
			}
		}
		t.Logf("replica %d holds %d sessions", i, held[i])
	}
	return home, held
}

// replicaSessions lists the session ids a replica holds, asked directly.
func replicaSessions(t *testing.T, hc *http.Client, addr string) []string {
	t.Helper()
	status, body, err := call(hc, "GET", "http://"+addr+"/_admin/sessions", "")
	assert.NilError(t, err)
	assert.Equal(t, status, http.StatusOK, "GET /_admin/sessions on a replica")
	var list []struct{ ID string }
	assert.NilError(t, json.Unmarshal(body, &list))
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}
