package sandbox_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestDirectGzipAnswers: the direct transport decodes a gzip answer as Go's
// transport does over loopback — the same bytes — with its pooled readers:
// two answers read interleaved stay apart, a read after Close fails instead
// of reading a reader handed on, and Close twice is harmless.
func TestDirectGzipAnswers(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	loop := e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), ""))
	wantStatus(t, loop, 200, "")
	if loop.header.Get("Content-Encoding") != "" || len(loop.body) < 10_000 {
		t.Fatalf("loopback answer: %d bytes, Content-Encoding %q", len(loop.body), loop.header.Get("Content-Encoding"))
	}
	direct := &http.Client{Transport: e.Server.Direct()}
	open := func() *http.Response {
		t.Helper()
		res, err := direct.Do(gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), ""))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Uncompressed || res.Header.Get("Content-Encoding") != "" {
			t.Fatalf("direct answer not decoded as Go's transport decodes it: Uncompressed %v, Content-Encoding %q", res.Uncompressed, res.Header.Get("Content-Encoding"))
		}
		return res
	}
	a, b := open(), open()
	var ga, gb bytes.Buffer
	buf := make([]byte, 1000)
	for done := 0; done < 2; {
		done = 0
		for _, x := range []struct {
			res *http.Response
			out *bytes.Buffer
		}{{a, &ga}, {b, &gb}} {
			n, err := x.res.Body.Read(buf)
			x.out.Write(buf[:n])
			if err == io.EOF {
				done++
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, x := range []struct {
		name string
		got  []byte
	}{{"first", ga.Bytes()}, {"second", gb.Bytes()}} {
		if !bytes.Equal(x.got, loop.body) {
			t.Errorf("%s direct answer: %d bytes, differs from loopback's %d", x.name, len(x.got), len(loop.body))
		}
	}
	a.Body.Close()
	if _, err := a.Body.Read(buf); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("read after Close: %v, want an error", err)
	}
	if err := a.Body.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	c := open() // takes the reader a gave back
	defer c.Body.Close()
	got, err := io.ReadAll(c.Body)
	if err != nil || !bytes.Equal(got, loop.body) {
		t.Errorf("answer read with a reused reader: %d bytes, %v", len(got), err)
	}
	b.Body.Close()
}

// TestDirectRefusesOtherOrigins: the direct transport serves only the
// sandbox's own origin — scheme, host and port — and touches no other.
func TestDirectRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := e.Server.Direct()
	for _, origin := range []string{"https://" + u.Host, "http://" + u.Hostname() + ":1", "http://example.invalid", "http://" + u.Hostname() + "x:" + u.Port(), "http://" + u.Host[:len(u.Host)-1]} {
		req, err := http.NewRequest("GET", origin+"/personal-demographics/FHIR/R4/Patient/9000000009", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := tr.RoundTrip(req); err == nil {
			res.Body.Close()
			t.Errorf("%s: served, want refused", origin)
		}
	}
	req, _ := http.NewRequest("GET", e.URL+"/personal-demographics/FHIR/R4/Patient/9000000009", nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("own origin refused: %v", err)
	}
	res.Body.Close()
}
