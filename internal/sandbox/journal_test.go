package sandbox_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// hopsOf are the hops of views read from the admin API.
func hopsOf(views []journal.View) []journal.Hop {
	out := []journal.Hop{}
	for _, v := range views {
		out = append(out, v.Hop)
	}
	return out
}

// journalPage is GET …/journal's answer.
type journalPage struct {
	Session string
	Dropped int64
	Next    *int64
	Hops    []journal.View
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestJournalPages: GET …/journal pages by since and limit, filters by hop
// name, interaction and status (exact or class), says where the next page
// starts, gives JSON bodies as JSON values, and answers 400 to bad values.
func TestJournalPages(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	// Hops 1–3: PDS retrieves (200); 4: a retrieve of an unknown patient
	// (404); 5–6: a slot search through the SSP (the provider leg first).
	for range 3 {
		wantStatus(t, e.do(t, pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked)), 200, "")
	}
	r := e.do(t, pdsGet(t, ss.URLs().PDS+"/Patient/9111231130"))
	assert.Equal(t, r.status, 404, "unknown patient: "+r.String())
	wantStatus(t, e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")

	base := e.URL + "/_admin/sessions/" + ss.ID + "/journal"
	tests := []struct {
		name     string
		query    string
		wantSeqs []int64
		wantNext int64 // 0: null
	}{
		{"everything", "", []int64{1, 2, 3, 4, 5, 6}, 0},
		{"first page", "?limit=2", []int64{1, 2}, 2},
		{"next page", "?since=2&limit=2", []int64{3, 4}, 4},
		{"last page", "?since=4&limit=2", []int64{5, 6}, 0},
		{"past the end", "?since=6", nil, 0},
		{"by hop name", "?hop=pds.retrieve&limit=3", []int64{1, 2, 3}, 3},
		{"by hop name, escaped", "?hop=ssp.search%20free%20slots", []int64{6}, 0},
		{"by interaction", "?interaction=" + string(gpc.SearchSlots), []int64{5, 6}, 0},
		{"by status", "?status=404", []int64{4}, 0},
		{"by status class", "?status=2xx&since=3", []int64{5, 6}, 0},
		{"combined", "?hop=pds.retrieve&status=4xx", []int64{4}, 0},
		{"no match", "?status=5xx", nil, 0},
	}
	for _, tt := range tests {
		r := e.do(t, plain(t, "GET", base+tt.query, ""))
		if r.status != 200 {
			t.Fatalf("%s: %s", tt.name, r)
		}
		var p journalPage
		assert.NilError(t, json.Unmarshal(r.body, &p))
		var seqs []int64
		for _, h := range p.Hops {
			seqs = append(seqs, h.Seq)
		}
		assert.DeepEqual(t, seqs, tt.wantSeqs, tt.name+": seqs")
		var next int64
		if p.Next != nil {
			next = *p.Next
		}
		assert.Equal(t, next, tt.wantNext, tt.name+": next")
		assert.Equal(t, p.Session, ss.ID, tt.name+": session")
	}

	// A JSON body is a JSON value, not a string holding JSON.
	r = e.do(t, plain(t, "GET", base+"?limit=1", ""))
	var raw struct {
		Hops []map[string]json.RawMessage
	}
	assert.NilError(t, json.Unmarshal(r.body, &raw))
	assert.Equal(t, string(raw.Hops[0]["response_body"][:1]), "{", "PDS body as a JSON object")

	for _, q := range []string{"since=-1", "since=x", "limit=0", "limit=1001", "limit=ten", "status=4x", "status=abc", "status=6xx"} {
		r := e.do(t, plain(t, "GET", base+"?"+q, ""))
		assert.Equal(t, r.status, 400, q)
		assert.Contains(t, problemOf(t, r).Detail, strings.SplitN(q, "=", 2)[0]+"=", q+": error names the parameter")
	}
}

// TestJournalReadCostsOnePage is issue 13's "reading a full journal"
// probe: a journal of 5,000 hops with 20 KB bodies (~200 MB of JSON), read
// a page of 10: the read allocates about one page, not the journal. (It
// allocated the whole journal's JSON at once, per reader, before.)
func TestJournalReadCostsOnePage(t *testing.T) {
	e := start(t, sandbox.Config{Limits: sandbox.Limits{JournalBytes: 1 << 30}})
	ss := e.session(t, "")
	body := []byte(`{"resourceType":"Bundle","entry":[` + strings.Repeat(`{"resource":{"resourceType":"Slot","id":"12345"}},`, 400) + `{}]}`)
	for range 5000 {
		ss.Journal.Record(journal.Hop{Name: "ssp.search free slots", Status: 200,
			RequestHeader: http.Header{"Accept": {"application/fhir+json"}}},
			journal.Body{Data: body[:1024]}, journal.Body{Data: body})
	}
	assert.Equal(t, ss.Journal.Len(), 5000, "hops kept")

	read := func(query string) (uint64, journalPage) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/"+ss.ID+"/journal"+query, ""))
		runtime.ReadMemStats(&after)
		assert.Equal(t, r.status, 200, "status")
		var p journalPage
		assert.NilError(t, json.Unmarshal(r.body, &p))
		return after.TotalAlloc - before.TotalAlloc, p
	}
	allocated, p := read("?limit=10")
	t.Logf("GET ?limit=10 of a 5,000-hop journal allocated %d bytes", allocated)
	assert.Equal(t, len(p.Hops), 10, "hops in the page")
	assert.Equal(t, p.Hops[9].Seq, int64(10), "last seq")
	if p.Next == nil || *p.Next != 10 {
		t.Errorf("next = %v, want 10", p.Next)
	}
	// One page: 10 hops of ~21 KB, decoded, encoded and read back by the
	// client: a few hundred KB. The whole journal is ~100 MB.
	if allocated > 8<<20 {
		t.Errorf("reading 10 hops allocated %d bytes; want < 8 MiB (one page)", allocated)
	}
	// The last page costs the same as the first (the start is found by
	// seq, not by walking and copying the journal).
	allocated, p = read("?since=4990&limit=10")
	assert.Equal(t, len(p.Hops), 10, "hops in the last page")
	if allocated > 8<<20 {
		t.Errorf("reading the last 10 hops allocated %d bytes; want < 8 MiB", allocated)
	}
}

// TestJournalHugeHeaders is issue 13's "300 PDS reads, each with a 1 MB
// header" probe: it kept +480 MB. Each hop now keeps at most HeaderKept of
// headers, in copies (a substring would keep the whole 1 MB alive), so all
// 300 hops fit in a few MB, measured both as the journal accounts it and
// as heap after GC.
func TestJournalHugeHeaders(t *testing.T) {
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	kept := e.Server.Limits().HeaderKept
	huge := strings.Repeat("a", 1<<20-16<<10) // under the server's 1 MiB header limit
	before := heapAfterGC()
	for range 300 {
		req := pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked)
		req.Header.Set("X-Probe", huge)
		wantStatus(t, e.do(t, req), 200, "")
	}
	after := heapAfterGC()
	t.Logf("300 hops with a 1 MB header: journal accounts %d bytes, heap grew %d bytes", ss.Journal.Bytes(), int64(after)-int64(before))
	assert.Equal(t, ss.Journal.Len(), 300, "hops kept (none dropped)")
	assert.Equal(t, ss.Journal.Dropped(), int64(0), "dropped")
	h := ss.Journal.Hops()[299]
	assert.Equal(t, h.RequestHeader.Get("X-Request-Id"), "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11", "an ordinary header, kept whole")
	assert.Equal(t, strings.HasSuffix(h.RequestHeader.Get("X-Probe"), journal.Truncated), true, "the huge header is marked as clipped")
	if h.HeadersCut < len(huge)-kept {
		t.Errorf("HeadersCut = %d, want > %d", h.HeadersCut, len(huge)-kept)
	}
	// Per hop: HeaderKept of headers, a ~2 KB PDS body, and the rest.
	if got, bound := ss.Journal.Bytes(), int64(300*(kept+8<<10)); got > bound {
		t.Errorf("journal accounts %d bytes for 300 hops; want <= %d", got, bound)
	}
	if grew := int64(after) - int64(before); grew > 32<<20 {
		t.Errorf("heap grew by %d bytes over 300 requests with a 1 MB header; want < 32 MiB (300 MB before)", grew)
	}
}

// TestJournalKeepsGzipAsReceived: a slot search through the SSP, answered
// gzipped, is kept compressed on both legs (once each, not decoded) and
// read decoded.
func TestJournalKeepsGzipAsReceived(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
	req.Header.Set("Accept-Encoding", "gzip")
	r := e.do(t, req)
	assert.Equal(t, r.status, 200, "slot search")
	assert.Equal(t, r.header.Get("Content-Encoding"), "gzip", "answered gzipped")
	hops := ss.Journal.Hops()
	assert.Equal(t, len(hops), 2, "hops")
	decoded := 0
	for _, h := range hops {
		assert.Equal(t, h.ResponseHeader.Get("Content-Encoding"), "gzip", h.Name+" Content-Encoding")
		// A week of slots decodes to more than BodyKept: clipped, as before.
		assert.Contains(t, h.ResponseBody[:min(40, len(h.ResponseBody))], `{"resourceType":"Bundle"`, h.Name+": decoded body")
		decoded += len(h.ResponseBody)
	}
	if got := ss.Journal.Bytes(); got*2 > int64(decoded) {
		t.Errorf("journal accounts %d bytes for %d bytes of decoded bodies; want them kept compressed", got, decoded)
	}
}

// sseServer serves a sandbox whose event-stream handler reports when it
// returns.
func sseServer(t *testing.T, lim sandbox.Limits) (*sandbox.Server, string, <-chan struct{}) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: url, Limits: lim})
	assert.NilError(t, err)
	ended := make(chan struct{}, 8)
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/events") {
			ended <- struct{}{}
		}
	})
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, url, ended
}

// TestEventsSlowReaderDropped: a reader that never reads is dropped once a
// write has waited EventWriteTimeout — the handler returns — instead of
// holding the handler (and what it would buffer) for ever.
func TestEventsSlowReaderDropped(t *testing.T) {
	t.Parallel()
	srv, url, ended := sseServer(t, sandbox.Limits{EventWriteTimeout: 200 * time.Millisecond, JournalBytes: 1 << 30})
	ss, _ := srv.Session(sandbox.DefaultSession)
	// 300 hops of 64 KiB of text that neither compresses nor is JSON: ~40
	// MB of events, far more than the sockets' buffers hold.
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	body := make([]byte, 64<<10)
	for i := range body {
		body[i] = letters[rng.IntN(len(letters))]
	}
	for range 300 {
		ss.Journal.Record(journal.Hop{Name: "pds.retrieve", Status: 200}, journal.Body{}, journal.Body{Data: body})
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	assert.NilError(t, err)
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	_, err = fmt.Fprintf(conn, "GET /_admin/sessions/default/events HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.NilError(t, err)
	// Never read. The handler must give up by itself.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the event stream's handler still runs for a reader that reads nothing")
	}
}

// TestEventsEndOnClose: Server.Close ends open event streams, so a
// shutdown is not held up by them.
func TestEventsEndOnClose(t *testing.T) {
	t.Parallel()
	srv, url, ended := sseServer(t, sandbox.Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/_admin/sessions/default/events", nil)
	assert.NilError(t, err)
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	assert.Equal(t, res.StatusCode, 200, "status")
	assert.NilError(t, srv.Close())
	// The stream ends (EOF) rather than running until ctx gives up.
	_, err = io.Copy(io.Discard, bufio.NewReader(res.Body))
	assert.NilError(t, err)
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the handler did not return")
	}
}

// TestEventsBodiesAsJSON: the event stream shows hops as the journal page
// does, JSON bodies as JSON values, one line per event.
func TestEventsBodiesAsJSON(t *testing.T) {
	t.Parallel()
	srv, url, _ := sseServer(t, sandbox.Limits{})
	ss, _ := srv.Session(sandbox.DefaultSession)
	ss.Journal.Append(journal.Hop{Name: "pds.retrieve", Status: 200, ResponseBody: "{\n  \"resourceType\": \"Patient\"\n}"})
	ss.Journal.Append(journal.Hop{Name: "pds.retrieve", Status: 200, ResponseBody: "not json\nat all"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/_admin/sessions/default/events", nil)
	assert.NilError(t, err)
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	var data []string
	for len(data) < 2 {
		line, err := br.ReadString('\n')
		assert.NilError(t, err)
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = append(data, strings.TrimSuffix(d, "\n"))
		}
	}
	assert.Contains(t, data[0], `"response_body":{"resourceType":"Patient"}`, "JSON body")
	assert.Contains(t, data[1], `"response_body":"not json\nat all"`, "text body")
}

// TestJournalBoundsThroughHTTP: the sandbox's limits reach its sessions'
// journals. Bodies are kept to BodyKept (the request's and the response's,
// whatever the mock wrote), and under sustained slot searches the journal
// stays within JournalBytes, dropping the oldest hops and saying how many
// in the session's info and journal page.
func TestJournalBoundsThroughHTTP(t *testing.T) {
	t.Parallel()
	const bodyKept, journalBytes = 512, 64 << 10
	e := start(t, sandbox.Config{Limits: sandbox.Limits{BodyKept: bodyKept, JournalBytes: journalBytes}})
	ss := e.session(t, "")

	slot := freeSlots(ss)[0]
	wantStatus(t, e.book(t, ss, false, slot), 201, "")
	h := ss.Journal.Hops()[0]
	for what, body := range map[string]string{"request": h.RequestBody, "response": h.ResponseBody} {
		if !strings.HasSuffix(body, journal.Truncated) || len(body) != bodyKept+len(journal.Truncated) {
			t.Errorf("%s body: %d bytes ending %q; want %d kept and the mark", what, len(body), body[max(0, len(body)-20):], bodyKept)
		}
	}

	for i := range 60 {
		wantStatus(t, e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")
		if got := ss.Journal.Bytes(); got > journalBytes {
			t.Fatalf("after search %d: journal holds %d bytes, bound %d", i, got, journalBytes)
		}
	}
	dropped := ss.Journal.Dropped()
	if dropped == 0 {
		t.Fatalf("no hop dropped from a %d-byte journal after 121 hops (%d bytes kept)", journalBytes, ss.Journal.Bytes())
	}
	assert.Equal(t, int64(ss.Journal.Len())+dropped, int64(121), "hops kept + dropped")
	var info sandbox.SessionInfo
	assert.NilError(t, json.Unmarshal(e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/"+ss.ID, "")).body, &info))
	assert.Equal(t, info.Dropped, dropped, "session info's dropped")
	assert.Equal(t, info.Hops, ss.Journal.Len(), "session info's hops")
	var p journalPage
	assert.NilError(t, json.Unmarshal(e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/"+ss.ID+"/journal?limit=1", "")).body, &p))
	assert.Equal(t, p.Dropped, dropped, "journal page's dropped")
	assert.Equal(t, p.Hops[0].Seq, dropped+1, "the oldest hop kept")
}

// sseReader reads one event stream's events: name and data.
type sseReader struct {
	t  *testing.T
	br *bufio.Reader
}

func openEvents(t *testing.T, ctx context.Context, url string) *sseReader {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	assert.NilError(t, err)
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	assert.Equal(t, res.StatusCode, 200, "events status")
	return &sseReader{t: t, br: bufio.NewReader(res.Body)}
}

// next returns the next event's name and data.
func (r *sseReader) next() (string, string) {
	r.t.Helper()
	var event string
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			r.t.Fatalf("stream ended: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			return event, d
		}
	}
}

// TestEventsStartAndRun: the event stream sends a hop in flight as event
// "start" before the hop that ends it (which carries the start's id), and
// the session's built-in consumer run as event "run" when it begins and
// when it ends, after the hops it made.
func TestEventsStartAndRun(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	// A scenario with a run: section: POST …/run refuses one without (409).
	withRun, err := scenario.Load("run.yaml", []byte(scenarioYAML))
	assert.NilError(t, err)
	srv, err := sandbox.New(sandbox.Config{PublicURL: url, Default: withRun, Run: func(ctx context.Context, ss *sandbox.Session) error {
		id := ss.Journal.Begin(journal.Start{From: journal.Consumer, To: journal.PDS, Step: "1a", Name: "pds.retrieve"})
		select {
		case <-release:
		case <-ctx.Done(): // the test failed early and closes the server
			return nil
		}
		ss.Journal.Record(journal.Hop{Name: "pds.retrieve", Status: 200, Start: id}, journal.Body{}, journal.Body{})
		return nil
	}, Verdict: func(ss *sandbox.Session) any {
		return map[string]any{"passed": false, "outcome": "none", "failures": []string{"outcome"}}
	}})
	assert.NilError(t, err)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ev := openEvents(t, ctx, url+"/_admin/sessions/default/events")
	res, err := http.Post(url+"/_admin/sessions/default/run", "application/json", nil)
	assert.NilError(t, err)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusAccepted, "run")

	var got []string
	for len(got) < 2 {
		name, data := ev.next()
		got = append(got, name+" "+data)
	}
	// The run's begin and the start can come in one wake-up or two: the
	// start is sent first within one, the run's begin first across two.
	if got[0] != `run {"run":1,"running":true}` {
		got[0], got[1] = got[1], got[0]
	}
	assert.Equal(t, got[0], `run {"run":1,"running":true}`, "run begun")
	assert.Contains(t, got[1], `start {"start":1,`, "hop in flight")
	assert.Contains(t, got[1], `"step":"1a","name":"pds.retrieve"`, "hop in flight")
	close(release) // only now: the start must have been sent while in flight
	got = nil
	for len(got) < 2 {
		name, data := ev.next()
		got = append(got, name+" "+data)
	}
	assert.Contains(t, got[0], `hop {"seq":1,`, "hop done")
	assert.Contains(t, got[0], `"start":1`, "hop carries its start")
	assert.Equal(t, got[1], `run {"run":1,"running":false}`, "run ended")
	// The session list has the gist of the run's verdict by then.
	res, err = http.Get(url + "/_admin/sessions/default")
	assert.NilError(t, err)
	defer res.Body.Close()
	var info sandbox.SessionInfo
	assert.NilError(t, json.NewDecoder(res.Body).Decode(&info))
	assert.DeepEqual(t, info.LastRun, &sandbox.RunVerdict{Passed: false, Outcome: "none"}, "last run's verdict")
}

// TestJournalInFlightBounded: a journal keeps at most MaxInFlight starts,
// and forgets each when its hop is recorded.
func TestJournalInFlightBounded(t *testing.T) {
	t.Parallel()
	j := journal.New(journal.Limits{})
	var ids []int64
	for range journal.MaxInFlight + 50 {
		ids = append(ids, j.Begin(journal.Start{Name: "pds.retrieve"}))
	}
	assert.Equal(t, len(j.InFlight(0)), journal.MaxInFlight, "starts kept")
	assert.Equal(t, len(j.InFlight(10)), journal.MaxInFlight-10, "starts after id 10")
	for _, id := range ids {
		j.Record(journal.Hop{Name: "pds.retrieve", Start: id}, journal.Body{}, journal.Body{})
	}
	assert.Equal(t, len(j.InFlight(0)), 0, "starts kept once every hop is recorded")
}

// TestSSPHopKeepsTheAnswerRelayed: the SSP's hop keeps the provider's
// answer it relayed in process as the client got it — the same bytes as
// the provider's hop, clipped at Limits.Body — plain and gzipped, small
// and larger than the limit.
func TestSSPHopKeepsTheAnswerRelayed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		gzip  bool
		limit int
	}{
		{"plain, whole", false, 4 << 20},
		{"plain, clipped", false, 1000},
		{"gzip, whole", true, 4 << 20},
		{"gzip, clipped", true, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, sandbox.Config{Limits: sandbox.Limits{BodyKept: tt.limit}})
			ss := e.session(t, "")
			req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			if tt.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			res, err := e.client.Transport.RoundTrip(req) // no transparent gunzip
			assert.NilError(t, err)
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, res.StatusCode, 200, "slot search")
			hops := ss.Journal.Hops()
			assert.Equal(t, len(hops), 2, "hops")
			want := string(got)
			if tt.gzip {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				assert.NilError(t, err)
				plain, _ := io.ReadAll(zr)
				want = string(plain)
			}
			if len(got) > tt.limit {
				want = "" // a clipped gzip body decodes to a prefix: compare the hops
				if !tt.gzip {
					want = string(got[:tt.limit]) + journal.Truncated
				}
			}
			for _, h := range hops {
				if h.ResponseBody == "" || want != "" && h.ResponseBody != want {
					t.Errorf("%s kept %d bytes %.60q…, want %d %.60q…", h.Name, len(h.ResponseBody), h.ResponseBody, len(want), want)
				}
			}
			if hops[0].ResponseBody != hops[1].ResponseBody {
				t.Errorf("%s kept %.60q…, %s %.60q…: want the same answer", hops[0].Name, hops[0].ResponseBody, hops[1].Name, hops[1].ResponseBody)
			}
			// The same headers, kept once (journal.RecordRelay), and as the
			// client got them less the connection's own.
			if reflect.ValueOf(hops[0].ResponseHeader).Pointer() != reflect.ValueOf(hops[1].ResponseHeader).Pointer() {
				t.Errorf("the two hops keep their answer's headers apart: %v, %v", hops[0].ResponseHeader, hops[1].ResponseHeader)
			}
			for k := range hops[1].ResponseHeader {
				if res.Uncompressed && k == "Content-Encoding" {
					continue // Go's transport asked for gzip itself and took it off
				}
				if res.Header.Get(k) != hops[1].ResponseHeader.Get(k) {
					t.Errorf("%s: kept %q, the client got %q", k, hops[1].ResponseHeader.Get(k), res.Header.Get(k))
				}
			}
		})
	}
}

// TestJournalKeepsRequestHeadersAsSent: a hop keeps its request's headers
// as they were sent, even when the caller that handed ServeHTTP the request
// changes its map afterwards; a map the sandbox's server made for the
// request (over the listener, or Direct's) is kept without a copy, which
// no caller can reach. The answer's headers likewise, though Direct's
// caller changes the answer it is handed.
func TestJournalKeepsRequestHeadersAsSent(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	for _, tt := range []struct {
		name string
		send func(t *testing.T, req *http.Request)
		gzip bool // the client asked for gzip (Go's transport, Direct) and took it off the answer it was handed
	}{
		{"ServeHTTP", func(t *testing.T, req *http.Request) {
			req.RequestURI = req.URL.RequestURI()
			req.RemoteAddr = "192.0.2.1:1234" // as a server sets it
			w := httptest.NewRecorder()
			e.Server.ServeHTTP(w, req)
			assert.Equal(t, w.Code, http.StatusOK, "slot search")
		}, false},
		{"Direct", func(t *testing.T, req *http.Request) {
			res, err := e.Server.Direct().RoundTrip(req)
			assert.NilError(t, err)
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			assert.Equal(t, res.StatusCode, http.StatusOK, "slot search")
		}, true},
		{"listener", func(t *testing.T, req *http.Request) {
			res, err := e.client.Do(req)
			assert.NilError(t, err)
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			assert.Equal(t, res.StatusCode, http.StatusOK, "slot search")
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss := e.session(t, "")
			req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			trace := req.Header.Get("Ssp-TraceID")
			tt.send(t, req)
			// The caller reuses its request: a value changed in place, one
			// replaced, one added.
			req.Header["Ssp-Traceid"][0] = "changed"
			req.Header.Set("Ssp-From", "changed")
			req.Header.Set("X-Later", "changed")
			hops := ss.Journal.Hops()
			assert.Equal(t, len(hops), 2, "hops")
			// The consumer sent no forwarding headers; the SSP sent the
			// provider its own (gpconnect-1.6.md §1.4), whether it
			// forwarded a copy or the consumer's map in place.
			for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"} {
				for _, h := range hops {
					_, has := h.RequestHeader[k]
					if want := h.From == journal.SSP; has != want {
						t.Errorf("%s: has %s %v, want %v", h.Name, k, has, want)
					}
				}
			}
			for _, h := range hops {
				if got := h.RequestHeader.Get("Ssp-TraceID"); got != trace {
					t.Errorf("%s: Ssp-TraceID %q, want %q as sent", h.Name, got, trace)
				}
				if got := h.RequestHeader.Get("Ssp-From"); got != consumerASID {
					t.Errorf("%s: Ssp-From %q, want %q as sent", h.Name, got, consumerASID)
				}
				if _, ok := h.RequestHeader["X-Later"]; ok {
					t.Errorf("%s: keeps a header added after it was sent", h.Name)
				}
				// The answer's headers as the provider sent them, whatever
				// the client then did with the answer it was handed.
				if got, want := h.ResponseHeader.Get("Content-Encoding"), map[bool]string{true: "gzip"}[tt.gzip]; got != want {
					t.Errorf("%s: answer's Content-Encoding %q, want %q as sent", h.Name, got, want)
				}
			}
		})
	}
}

// TestWrappedSandboxLeavesItsRequestAlone: a sandbox served inside someone
// else's handler, who may read the request after it, forwards a copy of
// the consumer's headers: the request's own map is as it came (only a
// sandbox that is its server's whole handler forwards that map in place).
func TestWrappedSandboxLeavesItsRequestAlone(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	var mu sync.Mutex
	var changed []string
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := r.Header.Clone()
		e.Server.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		for k := range r.Header {
			if _, ok := before[k]; !ok {
				changed = append(changed, k)
			}
		}
	}))
	t.Cleanup(outer.Close)
	req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
	req.URL.Host = strings.TrimPrefix(outer.URL, "http://") // the SSP target stays the sandbox's own
	res, err := outer.Client().Do(req)
	assert.NilError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "slot search through the SSP")
	outer.Close() // waits for the handler to return
	mu.Lock()
	defer mu.Unlock()
	if len(changed) > 0 {
		t.Errorf("the sandbox added %q to the request its wrapper handed it", changed)
	}
	hops := ss.Journal.Hops()
	assert.Equal(t, len(hops), 2, "hops")
	for _, h := range hops {
		_, fwd := h.RequestHeader["X-Forwarded-Host"]
		assert.Equal(t, fwd, h.From == journal.SSP, h.Name+" has the SSP's forwarding headers")
	}
}
