package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// dialTo is a client that connects to addr whatever host a URL names, as
// a client reaching the sandbox through a mapped port or a DNS name would.
func dialTo(addr string) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// bookVia books the built-in world's patient through urls with hc.
func bookVia(t *testing.T, hc *http.Client, pds, sds, ssp string) (*consumer.Booking, []consumer.Hop, error) {
	t.Helper()
	data, err := scenario.Default().World(time.Now())
	assert.NilError(t, err)
	me := data.Consumer
	var hops []consumer.Hop
	cl, err := consumer.New(consumer.Config{
		PDS: pds, SDS: sds, SSP: ssp, ASID: me.ASID, HTTPClient: hc,
		Identity: jwt.Identity{Issuer: "https://follow.test.invalid/", DeviceID: "t", DeviceModel: "t", DeviceVersion: "1",
			OrgODS: me.ODS, OrgName: me.Name, PractitionerID: "1", SDSUserID: "UNK", Family: "Test", Given: []string{"T"}, Prefix: []string{"Dr"}},
		Observer: func(h consumer.Hop) { hops = append(hops, h) },
	})
	assert.NilError(t, err)
	b, err := cl.NewSession().Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	return b, hops, err
}

// TestServeFollowsTheClient: serve without --public-url, reached as
// 127.0.0.1:P, as localhost:P and under a name it has never heard of,
// hands out URLs on the address it was asked on, and every one of them
// works from there: a session's URLs, PDS's fullUrls, SDS's service roots,
// the SSP forwarding to them and the provider's JWT audience check. The
// SSP still refuses a root handed out to another address, and a Host
// header never makes it connect anywhere.
func TestServeFollowsTheClient(t *testing.T) {
	t.Parallel()
	sv := startServe(t, noenv, "--addr", "127.0.0.1:0")
	_, port, err := net.SplitHostPort(sv.addr)
	assert.NilError(t, err)
	hosts := []string{"127.0.0.1:" + port, "localhost:" + port, "sandbox.invalid:" + port}
	roots := map[string]string{}
	for _, host := range hosts {
		origin := "http://" + host
		hc := dialTo(sv.addr)

		res, err := hc.Post(origin+"/_admin/sessions", "application/yaml", strings.NewReader("name: follow\nextends: builtin\n"))
		assert.NilError(t, err)
		var info struct {
			ID   string            `json:"id"`
			URLs map[string]string `json:"urls"`
		}
		assert.NilError(t, json.NewDecoder(res.Body).Decode(&info))
		res.Body.Close()
		assert.Equal(t, res.StatusCode, http.StatusCreated, host+": create session")
		for name, u := range info.URLs {
			if !strings.HasPrefix(u, origin+"/s/"+info.ID+"/") {
				t.Errorf("%s: session URL %s = %q, not on %s", host, name, u, origin)
			}
		}

		req, _ := http.NewRequest("GET", info.URLs["pds"]+"/Patient/9693632109", nil)
		req.Header.Set("X-Request-ID", "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11")
		res, err = hc.Do(req)
		assert.NilError(t, err)
		res.Body.Close()
		assert.Equal(t, res.StatusCode, 200, host+": PDS")

		b, hops, err := bookVia(t, hc, info.URLs["pds"], info.URLs["sds"], info.URLs["ssp"])
		if err != nil {
			t.Fatalf("%s: booking: %v", host, err)
		}
		assert.Equal(t, b.ODS, "A20047", host+": booked at")
		for _, h := range hops {
			if !strings.HasPrefix(h.URL, origin+"/") {
				t.Errorf("%s: the consumer was sent to %s", host, h.URL)
			}
			if h.Service == "ssp" && !strings.HasPrefix(h.URL, info.URLs["ssp"]+origin+"/s/"+info.ID+"/provider/") {
				t.Errorf("%s: SSP target %s is not the session's provider on %s", host, h.URL, origin)
			}
		}
		roots[host] = info.URLs["ssp"] + origin + "/s/" + info.ID + "/provider/A20047/STU3/1/gpconnect/metadata"
		// The root SDS registered for this session, asked for on another
		// address: refused — it is not the root registered there.
		other := strings.Replace(roots[host], info.URLs["ssp"], strings.Replace(info.URLs["ssp"], host, hosts[0], 1), 1)
		if host != hosts[0] {
			status := sspMetadata(t, hc, other)
			if status < 400 {
				t.Errorf("%s: the SSP on %s forwarded to a root handed out on %s: %d", host, hosts[0], host, status)
			}
		}
	}
	// Targets that are no registered root at all.
	hc := dialTo(sv.addr)
	base := "http://" + hosts[0] + "/ssp/"
	for _, target := range []string{
		"http://169.254.169.254/latest/meta-data",
		"http://" + hosts[0] + "/_admin/sessions",
		"http://" + hosts[1] + "/provider/A20047/STU3/1/gpconnect/metadata",
		"http://example.com/provider/A20047/STU3/1/gpconnect/metadata",
	} {
		if status := sspMetadata(t, hc, base+target); status < 400 {
			t.Errorf("the SSP forwarded to %s: %d", target, status)
		}
	}
	assert.Equal(t, sv.exit(t), 0, "exit code")
}

// sspMetadata sends a read metadata through the SSP URL u and returns the
// status.
func sspMetadata(t *testing.T, hc *http.Client, u string) int {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	assert.NilError(t, err)
	req.Header.Set("Ssp-From", "200000000115")
	req.Header.Set("Ssp-To", "918999198738")
	req.Header.Set("Ssp-InteractionID", "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1")
	req.Header.Set("Ssp-TraceID", "5f2b8a9c-1e6d-4c3b-9a7e-0d1c2b3a4f5e")
	req.Header.Set("Authorization", "Bearer x")
	res, err := hc.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}
