package journal

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestAppendNumbersAndBounds(t *testing.T) {
	t.Parallel()
	j := New(Limits{Hops: 3})
	for i := 0; i < 5; i++ {
		j.Append(Hop{Name: "pds.retrieve"})
	}
	hops := j.Hops()
	assert.Equal(t, len(hops), 3, "len(hops)")
	assert.Equal(t, hops[0].Seq, int64(3), "oldest kept seq")
	assert.Equal(t, hops[2].Seq, int64(5), "newest seq")
	assert.Equal(t, j.Dropped(), int64(2), "dropped")
	assert.Equal(t, len(j.Since(4)), 1, "len(Since(4))")
	assert.Equal(t, j.Len(), 3, "Len")
}

// TestRingKeepsOrder: the ring wraps, grows and shrinks without losing or
// reordering hops.
func TestRingKeepsOrder(t *testing.T) {
	t.Parallel()
	j := New(Limits{Hops: 100, Bytes: 1 << 30})
	for i := 1; i <= 1000; i++ {
		j.Append(Hop{Name: fmt.Sprint(i)})
		if i%97 == 0 {
			// Shrink it: a hop as large as the byte bound drops the rest.
			j.lim.Bytes = 2 * entryCost
			j.Append(Hop{})
			j.lim.Bytes = 1 << 30
		}
	}
	hops := j.Hops()
	for i := 1; i < len(hops); i++ {
		if hops[i].Seq != hops[i-1].Seq+1 {
			t.Fatalf("hop %d has seq %d after %d", i, hops[i].Seq, hops[i-1].Seq)
		}
	}
	assert.Equal(t, hops[len(hops)-1].Name, "1000", "newest")
	assert.Equal(t, int64(len(hops))+j.Dropped(), int64(1000+1000/97), "kept + dropped")
}

// TestBytesBound: under sustained appends of hops of every size the
// journal stays within Limits.Bytes, drops the oldest first, counts them,
// and always keeps the newest hop, clipped when it alone is over the bound.
func TestBytesBound(t *testing.T) {
	t.Parallel()
	const bound = 64 << 10
	j := New(Limits{Hops: 1000, Bytes: bound, Body: 32 << 10})
	sizes := []int{0, 10, 1 << 10, 5 << 10, 20 << 10, 31 << 10, 100 << 10}
	for i := 0; i < 2000; i++ {
		n := sizes[i%len(sizes)]
		seq := j.Record(Hop{Name: "ssp.search free slots"}, Body{Data: bytes.Repeat([]byte("a"), n)}, Body{Data: bytes.Repeat([]byte("b"), n)})
		if got := j.Bytes(); got > bound {
			t.Fatalf("after hop %d: %d bytes kept, bound %d", i, got, bound)
		}
		page, _ := j.Page(seq-1, 1, nil)
		if len(page) != 1 || page[0].Seq() != seq {
			t.Fatalf("after hop %d: the newest hop is not there", i)
		}
	}
	assert.Equal(t, int64(j.Len())+j.Dropped(), int64(2000), "kept + dropped")
	if j.Dropped() < 1500 {
		t.Errorf("dropped = %d, want most of 2000 hops of up to 64 KiB in a 64 KiB journal", j.Dropped())
	}

	// One hop larger than the whole journal is kept, clipped, and says so.
	small := New(Limits{Bytes: 4 << 10, Body: 64 << 10})
	small.Append(Hop{Name: "first"})
	small.Append(Hop{Name: "big", ResponseBody: strings.Repeat("x", 60<<10)})
	hops := small.Hops()
	assert.Equal(t, len(hops), 1, "hops kept")
	assert.Equal(t, hops[0].Name, "big", "the newest hop")
	if !strings.HasSuffix(hops[0].ResponseBody, Truncated) || len(hops[0].ResponseBody) > 4<<10 {
		t.Errorf("big hop's body: %d bytes, suffix %q; want under 4 KiB and clipped", len(hops[0].ResponseBody), hops[0].ResponseBody[max(0, len(hops[0].ResponseBody)-20):])
	}
	if small.Bytes() > 4<<10 {
		t.Errorf("bytes = %d, want <= 4096", small.Bytes())
	}
}

// TestBytesBoundHeap: what the journal accounts is what it holds. A
// journal of 1 MiB fed 200 MiB of hops holds a few MiB of heap at most.
// (Without the byte bound it holds 5,000 hops of 40 KiB: 200 MiB.)
func TestBytesBoundHeap(t *testing.T) {
	const bound = 1 << 20
	before := heapAfterGC()
	j := New(Limits{Hops: 5000, Bytes: bound})
	body := bytes.Repeat([]byte("0123456789abcdef"), 20<<10/16)
	hdr := http.Header{"X-Big": {strings.Repeat("h", 4<<10)}}
	for i := 0; i < 5000; i++ {
		j.Record(Hop{RequestHeader: hdr}, Body{Data: body}, Body{Data: body})
	}
	after := heapAfterGC()
	t.Logf("5,000 hops of ~44 KB in a 1 MiB journal: %d hops kept, %d bytes accounted, heap grew %d bytes", j.Len(), j.Bytes(), int64(after)-int64(before))
	assert.Equal(t, j.Bytes() <= bound, true, "accounted bytes within the bound")
	if grew := int64(after) - int64(before); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes keeping a 1 MiB journal; want < 8 MiB", grew)
	}
	runtime.KeepAlive(j)
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestHeadersClipped: a hop's request and response headers are kept within
// Limits.Header in all: ordinary headers whole, a huge one clipped with
// the mark, and the hop says how much was cut.
func TestHeadersClipped(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name         string
		req, res     http.Header
		wantReq      map[string]string // header → value kept (prefix when ending in Truncated)
		wantRes      map[string]string
		wantCutAbove int
	}{
		{
			name:    "small headers kept whole",
			req:     http.Header{"Ssp-From": {"200000000115"}, "Accept": {"application/fhir+json"}},
			res:     http.Header{"Content-Type": {"application/fhir+json"}},
			wantReq: map[string]string{"Ssp-From": "200000000115", "Accept": "application/fhir+json"},
			wantRes: map[string]string{"Content-Type": "application/fhir+json"},
		},
		{
			name:         "a 1 MB request header is clipped, the others kept",
			req:          http.Header{"X-Huge": {huge}, "Ssp-From": {"200000000115"}},
			res:          http.Header{"Content-Type": {"application/fhir+json"}},
			wantReq:      map[string]string{"Ssp-From": "200000000115", "X-Huge": "xxxx" + Truncated},
			wantRes:      map[string]string{"Content-Type": "application/fhir+json"},
			wantCutAbove: 1<<20 - 1024,
		},
		{
			name:         "huge on both sides: half each",
			req:          http.Header{"X-Huge": {huge}},
			res:          http.Header{"X-Huge": {huge}},
			wantReq:      map[string]string{"X-Huge": "xxxx" + Truncated},
			wantRes:      map[string]string{"X-Huge": "xxxx" + Truncated},
			wantCutAbove: 2<<20 - 1024,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := New(Limits{Header: 1024})
			j.Append(Hop{RequestHeader: tt.req, ResponseHeader: tt.res})
			h := j.Hops()[0]
			check := func(side string, got http.Header, want map[string]string) {
				t.Helper()
				assert.Equal(t, len(got), len(want), side+" header count")
				for k, v := range want {
					g := got.Get(k)
					if strings.HasSuffix(v, Truncated) {
						prefix := strings.TrimSuffix(v, Truncated)
						if !strings.HasPrefix(g, prefix) || !strings.HasSuffix(g, Truncated) {
							t.Errorf("%s %s = %.40q…, want it clipped with %q", side, k, g, Truncated)
						}
						continue
					}
					assert.Equal(t, g, v, side+" "+k)
				}
			}
			check("request", h.RequestHeader, tt.wantReq)
			check("response", h.ResponseHeader, tt.wantRes)
			kept := rawSize(h.RequestHeader) + rawSize(h.ResponseHeader)
			if kept > 1024+2*len(Truncated) {
				t.Errorf("headers kept: %d bytes, want <= 1024 (+ marks)", kept)
			}
			if h.HeadersCut < tt.wantCutAbove || (tt.wantCutAbove == 0 && h.HeadersCut != 0) {
				t.Errorf("HeadersCut = %d, want > %d", h.HeadersCut, tt.wantCutAbove)
			}
		})
	}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBodiesKeptAsReceived: a gzip body is kept compressed (what the
// journal accounts is the compressed size) and decoded when read, to at
// most Limits.Body (a gzip bomb does not expand on read); a body clipped
// when recorded reads as clipped.
func TestBodiesKeptAsReceived(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	json500 := []byte(`{"resourceType":"Bundle","entry":[` + strings.Repeat(`{"a":1},`, 50) + `{"a":1}]}`)
	bomb := gz(t, make([]byte, 8<<20)) // 8 MiB of zeros in ~8 KiB
	tests := []struct {
		name     string
		body     Body
		want     string
		clipped  bool
		keptUpTo int
	}{
		{"plain", Body{Data: []byte("hello")}, "hello", false, 5},
		{"gzip decoded on read", Body{Data: gz(t, []byte("hello")), Encoding: "gzip"}, "hello", false, 64},
		{"gzip JSON", Body{Data: gz(t, json500), Encoding: "GZIP"}, string(json500), false, 100},
		{"clipped when sent larger", Body{Data: []byte("hel"), Size: 100}, "hel", true, 3},
		{"larger than the limit", Body{Data: bytes.Repeat([]byte("a"), 2*limit)}, strings.Repeat("a", limit), true, limit},
		{"gzip bomb", Body{Data: bomb, Encoding: "gzip"}, string(make([]byte, limit)), true, limit},
		{"not really gzip", Body{Data: []byte("plain text"), Encoding: "gzip"}, "plain text", false, 10},
		// Decoding sizes its buffer from the gzip trailer: one that says
		// less than the data holds (two members, the last one's size) is
		// read in full all the same.
		{"two gzip members", Body{Data: append(gz(t, bytes.Repeat([]byte("x"), 600)), gz(t, []byte("yz"))...), Encoding: "gzip"}, strings.Repeat("x", 600) + "yz", false, 100},
		{"trailer over the limit", Body{Data: gz(t, bytes.Repeat([]byte("q"), limit+1)), Encoding: "gzip"}, strings.Repeat("q", limit), true, 64},
		{"clipped gzip: what decodes", Body{Data: gz(t, bytes.Repeat([]byte("z"), 500))[:20], Encoding: "gzip", Size: 40}, strings.Repeat("z", 500), true, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := New(Limits{Body: limit})
			seq := j.Record(Hop{}, Body{}, tt.body)
			page, _ := j.Page(seq-1, 1, nil)
			e := page[0]
			if got := len(e.e.res.Data); got > tt.keptUpTo {
				t.Errorf("kept %d bytes, want <= %d (as received)", got, tt.keptUpTo)
			}
			got := e.Hop().ResponseBody
			if tt.clipped {
				if !strings.HasSuffix(got, Truncated) {
					t.Errorf("body %.40q… does not end in %q", got, Truncated)
				}
				got = strings.TrimSuffix(got, Truncated)
				if !strings.HasPrefix(tt.want, got) {
					t.Errorf("clipped body %.40q is not a prefix of %.40q", got, tt.want)
				}
				return
			}
			assert.Equal(t, got, tt.want, "body")
		})
	}
}

// TestView: JSON object and array bodies are JSON values, anything else a
// string, and a View reads back.
func TestView(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want string
	}{
		{`{"resourceType":"Patient"}`, `{"resourceType":"Patient"}`},
		{" [1, 2]\n", `[1,2]`},
		{`{"clipped":`, `"{\"clipped\":"`},
		{`plain <b>text</b>`, `"plain \u003cb\u003etext\u003c/b\u003e"`},
		{`42`, `"42"`},
		{``, ``},
	}
	for _, tt := range tests {
		j := New(Limits{})
		j.Append(Hop{Name: "pds.retrieve", ResponseBody: tt.body})
		page, _ := j.Page(0, 1, nil)
		b, err := json.Marshal(page[0].View())
		assert.NilError(t, err)
		if tt.want == "" {
			if strings.Contains(string(b), "response_body") {
				t.Errorf("empty body is in %s", b)
			}
			continue
		}
		assert.Contains(t, string(b), `"response_body":`+tt.want, "view of "+tt.body)
		var back View
		assert.NilError(t, json.Unmarshal(b, &back))
		assert.Equal(t, back.Name, "pds.retrieve", "name read back")
		var want any
		if json.Unmarshal([]byte(tt.want), &want) == nil {
			if s, ok := want.(string); ok {
				assert.Equal(t, back.ResponseBody.String(), s, "string body read back")
			}
		}
	}
}

// TestPage: pages by seq with a filter, and says whether more follow.
func TestPage(t *testing.T) {
	t.Parallel()
	j := New(Limits{})
	for i := 1; i <= 10; i++ {
		j.Append(Hop{Name: fmt.Sprint("n", i%2), Status: 200 + i%2})
	}
	odd := func(h *Hop) bool { return h.Name == "n1" }
	tests := []struct {
		name     string
		since    int64
		limit    int
		match    func(*Hop) bool
		wantSeqs []int64
		wantMore bool
	}{
		{"first page", 0, 3, nil, []int64{1, 2, 3}, true},
		{"next page", 3, 3, nil, []int64{4, 5, 6}, true},
		{"last page exactly", 7, 3, nil, []int64{8, 9, 10}, false},
		{"past the end", 10, 3, nil, nil, false},
		{"filtered", 0, 2, odd, []int64{1, 3}, true},
		{"filtered, the rest", 7, 2, odd, []int64{9}, false},
		{"filtered, no more matching", 8, 1, odd, []int64{9}, false},
	}
	for _, tt := range tests {
		page, more := j.Page(tt.since, tt.limit, tt.match)
		var seqs []int64
		for _, e := range page {
			seqs = append(seqs, e.Seq())
		}
		assert.DeepEqual(t, seqs, tt.wantSeqs, tt.name+": seqs")
		assert.Equal(t, more, tt.wantMore, tt.name+": more")
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	j := New(Limits{})
	ch, cancel := j.Subscribe()
	for i := 0; i < 100; i++ {
		j.Append(Hop{Name: "a"}) // never blocks: one notification waits at most
	}
	<-ch
	select {
	case <-ch:
		t.Error("a second notification was queued")
	default:
	}
	cancel()
	cancel()                 // idempotent
	j.Append(Hop{Name: "c"}) // must not block or panic
	if _, ok := <-ch; ok {
		t.Error("channel still open after cancel")
	}
}

func TestConcurrentAppend(t *testing.T) {
	t.Parallel()
	j := New(Limits{Hops: 100})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				j.Append(Hop{})
				j.Page(int64(k), 10, nil)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, len(j.Hops()), 100, "kept")
	assert.Equal(t, j.Hops()[99].Seq, int64(1000), "last seq")
}

func TestClear(t *testing.T) {
	t.Parallel()
	j := New(Limits{})
	j.Append(Hop{ResponseBody: "x"})
	j.Clear()
	assert.Equal(t, j.Len(), 0, "len")
	assert.Equal(t, j.Bytes(), int64(0), "bytes")
	assert.Equal(t, j.Append(Hop{}).Seq, int64(2), "numbering continues")
}

func TestFailed(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Hop{Checks: []Verdict{{Passed: true}}}.Failed(), false, "all passed")
	assert.Equal(t, Hop{Checks: []Verdict{{Passed: true}, {Passed: false}}}.Failed(), true, "one failed")
}

func TestInStartOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(100, 0)
	hops := []Hop{{Seq: 1, Time: t0.Add(2)}, {Seq: 2, Time: t0}, {Seq: 3, Time: t0.Add(2)}}
	got := InStartOrder(hops)
	assert.Equal(t, got[0].Seq, int64(2), "earliest first")
	assert.Equal(t, got[1].Seq, int64(1), "ties keep journal order")
	assert.Equal(t, got[2].Seq, int64(3), "last")
	assert.Equal(t, hops[0].Seq, int64(1), "input untouched")
}

// BenchmarkJournalAppend appends to a full journal: the cost per append is
// the same whatever the journal's size (it was O(hops) when a full journal
// shifted its slice on every append).
func BenchmarkJournalAppend(b *testing.B) {
	hdr := http.Header{"Content-Type": {"application/fhir+json"}, "Ssp-From": {"200000000115"}}
	body := Body{Data: bytes.Repeat([]byte("x"), 512)}
	for _, hops := range []int{1000, 5000, 50000} {
		b.Run(fmt.Sprint("hops=", hops), func(b *testing.B) {
			j := New(Limits{Hops: hops, Bytes: 1 << 40})
			for range hops {
				j.Record(Hop{RequestHeader: hdr}, body, body)
			}
			b.ReportAllocs()
			for b.Loop() {
				j.Record(Hop{RequestHeader: hdr}, body, body)
			}
		})
	}
}

// TestRequests: a verdict's read of the journal decodes request bodies and
// leaves the answers' out, so a gzip answer is never expanded for it.
func TestRequests(t *testing.T) {
	t.Parallel()
	j := New(Limits{Body: 1 << 20})
	j.Record(Hop{Name: "ssp.book appointment", Status: 201}, Body{Data: []byte(`{"resourceType":"Appointment"}`)},
		Body{Data: gz(t, make([]byte, 1<<20)), Encoding: "gzip"})
	got := j.Requests()
	if len(got) != 1 {
		t.Fatalf("Requests() = %d hops, want 1", len(got))
	}
	assert.Equal(t, got[0].Name, "ssp.book appointment", "name")
	assert.Equal(t, got[0].Status, 201, "status")
	assert.Equal(t, got[0].RequestBody, `{"resourceType":"Appointment"}`, "request body")
	assert.Equal(t, got[0].ResponseBody, "", "response body left out")
	assert.Equal(t, len(j.Hops()[0].ResponseBody), 1<<20, "Hops still decodes it")
}

// TestTextsKept: a gzip body's text is kept by its compressed bytes and
// found again only for the same limit and clipping; the store stays within
// maxTexts. Red when a kept text ignores the limit (a hop of a journal
// with another Body limit would show the wrong length).
func TestTextsKept(t *testing.T) {
	data := gz(t, bytes.Repeat([]byte("k"), 300))
	for _, limit := range []int{100, 1000, 100} {
		j := New(Limits{Body: limit})
		j.Record(Hop{}, Body{}, Body{Data: data, Encoding: "gzip"})
		got := j.Hops()[0].ResponseBody
		want := strings.Repeat("k", min(limit, 300))
		if limit < 300 {
			want += Truncated
		}
		assert.Equal(t, got, want, fmt.Sprintf("limit %d", limit))
	}
	j := New(Limits{Body: 1000})
	j.Record(Hop{}, Body{}, Body{Data: data, Encoding: "gzip", Size: int64(len(data)) + 1})
	assert.Equal(t, j.Hops()[0].ResponseBody, strings.Repeat("k", 300)+Truncated, "clipped when sent")
	for i := range 3 * maxTexts {
		j.Record(Hop{}, Body{}, Body{Data: gz(t, []byte(fmt.Sprint(i))), Encoding: "gzip"})
	}
	_ = j.Hops()
	if n := texts.len(); n > maxTexts {
		t.Errorf("%d texts kept, limit %d", n, maxTexts)
	}
}

// TestRecordTakenKeepsWhatRecordKeeps: a request header taken with
// ClipHeader when the request arrived and handed over with RecordTaken is
// kept as Record keeps it — clipped further when the response needs its
// share — and is not copied again when it fits.
func TestRecordTakenKeepsWhatRecordKeeps(t *testing.T) {
	t.Parallel()
	const budget = 1024
	huge := strings.Repeat("x", 1<<20)
	small := http.Header{"Ssp-From": {"200000000115"}, "Accept": {"application/fhir+json"}}
	tests := []struct {
		name     string
		req, res http.Header
	}{
		{"small headers", small, http.Header{"Content-Type": {"application/fhir+json"}}},
		{"huge request, small response", http.Header{"X-Huge": {huge}, "Ssp-From": {"200000000115"}}, small},
		{"small request, huge response", small, http.Header{"X-Huge": {huge}}},
		{"huge on both sides", http.Header{"X-Huge": {huge}, "A": {"b"}}, http.Header{"X-Huge": {huge}}},
		{"request taken whole, then over its half", http.Header{"X-Big": {strings.Repeat("y", 900)}}, http.Header{"X-Big": {strings.Repeat("z", 900)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// What the recording middleware did before RecordTaken: take
			// the request's header clipped, then Record copies and clips
			// it again with the response's.
			taken, cut := ClipHeader(tt.req, budget)
			want := New(Limits{Header: budget})
			want.Record(Hop{RequestHeader: taken, ResponseHeader: tt.res, HeadersCut: cut}, Body{}, Body{})
			got := New(Limits{Header: budget})
			got.RecordTaken(Hop{RequestHeader: taken, ResponseHeader: tt.res, HeadersCut: cut}, Body{}, Body{})
			w, g := want.Hops()[0], got.Hops()[0]
			assert.Equal(t, fmt.Sprint(g.RequestHeader), fmt.Sprint(w.RequestHeader), "request header")
			assert.Equal(t, fmt.Sprint(g.ResponseHeader), fmt.Sprint(w.ResponseHeader), "response header")
			if kept := rawSize(g.RequestHeader) + rawSize(g.ResponseHeader); kept > budget+2*len(Truncated) {
				t.Errorf("headers kept: %d bytes, want <= %d (+ marks)", kept, budget)
			}
			assert.Equal(t, g.HeadersCut, w.HeadersCut, "HeadersCut")
		})
	}
}

// TestClipHeaderCopiesEveryValue: a header that fits is copied value for
// value — keys of many values past the one per key the shared array was
// made for included — and an append to one key's copy never writes into
// another's or the original's.
func TestClipHeaderCopiesEveryValue(t *testing.T) {
	t.Parallel()
	h := http.Header{"A": {"1", "2", "3", "4"}, "B": {"5", "6", "7"}, "C": {"8"}, "Nil": nil, "Empty": {}}
	before := h.Clone()
	got, cut := ClipHeader(h, 1024)
	assert.Equal(t, cut, 0, "cut")
	assert.Equal(t, fmt.Sprint(got), fmt.Sprint(before), "copy")
	for k := range got {
		got[k] = append(got[k], "added to "+k)
	}
	for k, vs := range before {
		if g := got[k]; !slices.Equal(g[:len(g)-1], vs) {
			t.Errorf("%s after every key had a value appended: %v, want %v and the appended one", k, g, vs)
		}
	}
	assert.Equal(t, fmt.Sprint(h), fmt.Sprint(before), "the original")
}

// TestRecordTakenDoesNotCopy: a taken request header that fits is the
// map the journal keeps (the copy ClipHeader made when the request came).
// Not parallel: AllocsPerRun counts the whole process's allocations.
func TestRecordTakenDoesNotCopy(t *testing.T) {
	req, _ := ClipHeader(http.Header{"Ssp-From": {"200000000115"}, "Accept": {"application/fhir+json"}}, 1024)
	res := http.Header{"Content-Type": {"application/fhir+json"}}
	j := New(Limits{Header: 1024, Hops: 4})
	taken := testing.AllocsPerRun(100, func() { j.RecordTaken(Hop{RequestHeader: req, ResponseHeader: res}, Body{}, Body{}) })
	copied := testing.AllocsPerRun(100, func() { j.Record(Hop{RequestHeader: req, ResponseHeader: res}, Body{}, Body{}) })
	if taken >= copied {
		t.Errorf("RecordTaken: %.0f allocations, Record: %.0f; want fewer: the taken header is kept, not copied", taken, copied)
	}
	if h := j.Hops()[0]; fmt.Sprint(h.RequestHeader) != fmt.Sprint(req) {
		t.Errorf("request header kept = %v, want %v", h.RequestHeader, req)
	}
}

// TestRecordRelaySharesTheNewestAnswer: a hop that relays the answer the
// newest hop kept shares its bytes; one whose answer differs keeps a copy
// of its own, which the caller's buffer no longer reaches.
func TestRecordRelaySharesTheNewestAnswer(t *testing.T) {
	t.Parallel()
	answer := []byte(strings.Repeat(`{"resourceType":"Bundle"}`, 100))
	j := New(Limits{Body: 1000})
	j.RecordTaken(Hop{Name: "provider.search free slots"}, Body{}, Body{Data: bytes.Clone(answer)})
	relayed := bytes.Clone(answer)
	j.RecordRelay(Hop{Name: "ssp.search free slots"}, Body{}, Body{Data: relayed})
	other := []byte(`{"resourceType":"OperationOutcome"}`)
	j.RecordRelay(Hop{Name: "ssp.book appointment"}, Body{}, Body{Data: other})
	relayed[0], other[0] = 'x', 'x' // the callers' buffers are theirs again

	provider, ssp, own := j.hops.at(0).res, j.hops.at(1).res, j.hops.at(2).res
	assert.Equal(t, &ssp.Data[0] == &provider.Data[0], true, "the relayed answer shares the provider's bytes")
	assert.Equal(t, len(ssp.Data), 1000, "kept within Limits.Body")
	assert.Equal(t, ssp.Size, int64(len(answer)), "size")
	hops := j.Hops()
	assert.Equal(t, hops[1].ResponseBody, hops[0].ResponseBody, "the two hops read the same")
	assert.Equal(t, hops[1].ResponseBody, string(answer[:1000])+Truncated, "what the SSP relayed")
	assert.Equal(t, hops[2].ResponseBody, `{"resourceType":"OperationOutcome"}`, "an answer of its own")
	assert.Equal(t, &own.Data[0] != &other[0], true, "copied")
	var each int64
	for i := range j.hops.n {
		e := *j.hops.at(i)
		each += sizeOf(&e)
	}
	if got, want := j.Bytes(), each-1000; got != want {
		t.Errorf("Bytes = %d; want %d, the shared answer counted once", got, want)
	}
	checkAccounts(t, j)
}

// TestRelayedBytesCountedOnce: the bytes two entries share count once in
// Bytes, whichever of them is kept: when the provider's entry goes, the
// SSP's takes them on, so the bound still measures what is held; and a
// journal of relayed answers keeps twice the hops a double count would.
func TestRelayedBytesCountedOnce(t *testing.T) {
	t.Parallel()
	answer := []byte(strings.Repeat("a", 1000))
	t.Run("owner goes first", func(t *testing.T) {
		j := New(Limits{Hops: 3, Body: 1000})
		j.RecordTaken(Hop{Name: "provider"}, Body{}, Body{Data: bytes.Clone(answer)})
		j.RecordRelay(Hop{Name: "ssp"}, Body{}, Body{Data: bytes.Clone(answer)})
		checkAccounts(t, j)
		before := j.Bytes()
		j.Record(Hop{Name: "a"}, Body{}, Body{})
		j.Record(Hop{Name: "b"}, Body{}, Body{}) // drops the provider's entry
		assert.Equal(t, j.Hops()[0].Name, "ssp", "oldest kept")
		checkAccounts(t, j)
		if got := j.hops.at(0).size; got < 1000 {
			t.Errorf("the SSP's entry accounts for %d bytes once alone; want its answer's 1000 and more", got)
		}
		if j.Bytes() <= before-1000 {
			t.Errorf("Bytes %d after the provider's entry went (was %d): its answer is still kept", j.Bytes(), before)
		}
	})
	t.Run("owner gone before the relay", func(t *testing.T) {
		j := New(Limits{Hops: 1, Body: 1000})
		j.RecordTaken(Hop{Name: "provider"}, Body{}, Body{Data: bytes.Clone(answer)})
		j.RecordRelay(Hop{Name: "ssp"}, Body{}, Body{Data: bytes.Clone(answer)})
		checkAccounts(t, j)
		if got := j.Bytes(); got < 1000 {
			t.Errorf("Bytes = %d; want the kept answer's 1000 and more", got)
		}
	})
	t.Run("bound", func(t *testing.T) {
		one := New(Limits{Body: 1000})
		one.RecordTaken(Hop{Name: "provider"}, Body{}, Body{Data: bytes.Clone(answer)})
		one.RecordRelay(Hop{Name: "ssp"}, Body{}, Body{Data: bytes.Clone(answer)})
		pair := one.Bytes()
		j := New(Limits{Body: 1000, Bytes: 10 * pair})
		for range 50 {
			j.RecordTaken(Hop{Name: "provider"}, Body{}, Body{Data: bytes.Clone(answer)})
			j.RecordRelay(Hop{Name: "ssp"}, Body{}, Body{Data: bytes.Clone(answer)})
			checkAccounts(t, j)
			if j.Bytes() > 10*pair {
				t.Fatalf("Bytes %d over the bound %d", j.Bytes(), 10*pair)
			}
		}
		if n := j.Len(); n < 19 {
			t.Errorf("%d hops kept in ten pairs' bytes; want 19 or 20", n)
		}
	})
}

// checkAccounts checks j's books: Bytes is the sum of its entries' sizes,
// each entry's size is what it holds less the bytes it owes, and an entry
// owes only an older entry that is kept, shares the bytes and names it as
// their sharer.
func checkAccounts(t *testing.T, j *Journal) {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	var sum int64
	for i := range j.hops.n {
		e := j.hops.at(i)
		sum += e.size
		full := *e
		if got, want := e.size+e.owed, sizeOf(&full); got != want {
			t.Errorf("hop %d (%s): size %d + owed %d, want %d in all", e.meta.Seq, e.meta.Name, e.size, e.owed, want)
		}
		if e.owed == 0 {
			continue
		}
		var o *entry
		for k := range i {
			if j.hops.at(k).sharer == e.meta.Seq {
				o = j.hops.at(k)
			}
		}
		if o == nil || &o.res.Data[0] != &e.res.Data[0] || int64(len(e.res.Data)) != e.owed {
			t.Errorf("hop %d owes %d bytes to no kept hop sharing them", e.meta.Seq, e.owed)
		}
	}
	if sum != j.bytes {
		t.Errorf("Bytes %d, the entries' sizes sum to %d", j.bytes, sum)
	}
}

// TestHopsShareKeptBodies: reading a hop hands out its plain bodies without
// copying them (the journal never changes what it keeps), and a gzip body's
// text once decoded; the texts are what was recorded.
func TestHopsShareKeptBodies(t *testing.T) {
	j := New(Limits{})
	plain := []byte(`{"resourceType":"Bundle"}`)
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write([]byte(`{"resourceType":"Slot"}`))
	zw.Close()
	j.Record(Hop{Name: "a"}, Body{Data: []byte("request")}, Body{Data: plain})
	j.Record(Hop{Name: "b"}, Body{}, Body{Data: zbuf.Bytes(), Encoding: "gzip"})
	hops := j.Hops()
	if hops[0].RequestBody != "request" || hops[0].ResponseBody != string(plain) || hops[1].ResponseBody != `{"resourceType":"Slot"}` {
		t.Fatalf("bodies read back: %q %q %q", hops[0].RequestBody, hops[0].ResponseBody, hops[1].ResponseBody)
	}
	kept := j.hops.at(0).res.Data
	if unsafe.StringData(hops[0].ResponseBody) != &kept[0] {
		t.Error("a plain body was copied to be read")
	}
	again := j.Hops()
	if unsafe.StringData(again[1].ResponseBody) != unsafe.StringData(hops[1].ResponseBody) {
		t.Error("a gzip body was decoded again")
	}
}

// TestRecordKeepsGivenBodies: a body the caller gives away is kept as it
// is when its array is little larger than what is kept, copied otherwise,
// and a body not given is always copied.
func TestRecordKeepsGivenBodies(t *testing.T) {
	tight := []byte(`{"resourceType":"Bundle","entry":[]}`)
	slack := make([]byte, len(tight), 2*len(tight))
	copy(slack, tight)
	j := New(Limits{})
	j.Record(Hop{Name: "given"}, Body{Data: tight, Given: true}, Body{Data: tight, Given: true})
	j.Record(Hop{Name: "given, slack"}, Body{}, Body{Data: slack, Given: true})
	j.Record(Hop{Name: "not given"}, Body{}, Body{Data: tight})
	kept := func(i int) []byte { return j.hops.at(i).res.Data }
	if &kept(0)[0] != &tight[0] || &j.hops.at(0).req.Data[0] != &tight[0] {
		t.Error("a given body was copied")
	}
	if &kept(1)[0] == &slack[0] {
		t.Error("a given body was kept with twice its size in its array")
	}
	if &kept(2)[0] == &tight[0] {
		t.Error("a body not given was kept without a copy")
	}
	for i, h := range j.Hops() {
		if h.ResponseBody != string(tight) {
			t.Errorf("hop %d reads %q", i, h.ResponseBody)
		}
	}
}

// TestRecordGivenKeepsHeaderMaps: header maps given to the journal
// (RecordGiven, RecordRelay's request) are kept as they are when they fit
// the header budget and clipped in a copy when they do not; a relayed
// answer's headers share the newest hop's map when they are the same, and
// are copied when they differ; Record copies every map.
func TestRecordGivenKeepsHeaderMaps(t *testing.T) {
	t.Parallel()
	same := func(a, b http.Header) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	req := http.Header{"Ssp-Traceid": {"1"}, "Accept": {"application/fhir+json"}}
	res := http.Header{"Content-Type": {"application/fhir+json"}, "Etag": {`W/"1"`}}
	j := New(Limits{})
	j.RecordGiven(Hop{Name: "provider"}, Body{}, Body{Data: []byte("{}")})
	j.RecordGiven(Hop{Name: "provider", RequestHeader: req, ResponseHeader: res}, Body{}, Body{Data: []byte("{}")})
	kept := j.Hops()[1]
	assert.Equal(t, same(kept.RequestHeader, req) && same(kept.ResponseHeader, res), true, "given maps kept as they are")

	relayed := res.Clone()
	j.RecordRelay(Hop{Name: "ssp", RequestHeader: req.Clone(), ResponseHeader: relayed}, Body{}, Body{Data: []byte("{}")})
	ssp := j.Hops()[2]
	assert.Equal(t, same(ssp.ResponseHeader, res), true, "the relayed answer's headers share the provider's map")
	relayed.Set("Etag", "changed") // the caller's map is the caller's
	assert.Equal(t, j.Hops()[2].ResponseHeader.Get("Etag"), `W/"1"`, "kept")

	other := http.Header{"Content-Type": {"application/fhir+json"}, "Etag": {`W/"2"`}}
	j.RecordRelay(Hop{Name: "ssp", ResponseHeader: other}, Body{}, Body{})
	assert.Equal(t, same(j.Hops()[3].ResponseHeader, other) || same(j.Hops()[3].ResponseHeader, res), false, "different headers copied")

	j.Record(Hop{Name: "copied", RequestHeader: req, ResponseHeader: res}, Body{}, Body{})
	copied := j.Hops()[4]
	assert.Equal(t, same(copied.RequestHeader, req) || same(copied.ResponseHeader, res), false, "Record copies")

	small := New(Limits{Header: 40})
	big := http.Header{"A": {strings.Repeat("x", 100)}}
	small.RecordGiven(Hop{Name: "clipped", RequestHeader: big, ResponseHeader: big}, Body{}, Body{})
	h := small.Hops()[0]
	assert.Equal(t, same(h.RequestHeader, big) || same(h.ResponseHeader, big), false, "a given map over the budget is clipped in a copy")
	assert.Equal(t, len(big["A"][0]), 100, "the given map is not changed")
	if h.HeadersCut == 0 {
		t.Error("nothing cut")
	}
	checkAccounts(t, small) // the clipped maps accounted as kept
	checkAccounts(t, j)
}

// TestSameHeader: one map is the same as itself at once; two maps are the
// same when they hold the same keys with the same values in the same order.
func TestSameHeader(t *testing.T) {
	h := http.Header{"Content-Type": {"application/fhir+json"}, "Vary": {"Accept-Encoding", "Origin"}}
	for _, tt := range []struct {
		name string
		a, b http.Header
		want bool
	}{
		{"one map", h, h, true},
		{"a copy", h, h.Clone(), true},
		{"another value", h, http.Header{"Content-Type": {"application/fhir+xml"}, "Vary": {"Accept-Encoding", "Origin"}}, false},
		{"values in another order", h, http.Header{"Content-Type": {"application/fhir+json"}, "Vary": {"Origin", "Accept-Encoding"}}, false},
		{"another key", h, http.Header{"Content-Type": {"application/fhir+json"}, "Etag": {"Accept-Encoding", "Origin"}}, false},
		{"one key more", h, http.Header{"Content-Type": {"application/fhir+json"}, "Vary": {"Accept-Encoding", "Origin"}, "Etag": {`"1"`}}, false},
		{"no values against none", http.Header{"X": nil}, http.Header{"X": {}}, false},
		{"both empty", http.Header{}, http.Header{}, true},
	} {
		if got := sameHeader(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: sameHeader = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRecordLeavesOutKeysAdded: a hop recorded with keys added to its
// request's map after it came (Hop.RequestHeaderAdded; the SSP forwarding
// in place) reads, sizes and clips as if recorded with the map as it came,
// whichever way it is recorded; the map itself, which the provider's hop
// keeps as forwarded, keeps them.
func TestRecordLeavesOutKeysAdded(t *testing.T) {
	t.Parallel()
	added := []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "User-Agent"}
	res := http.Header{"Content-Type": {"application/fhir+json"}}
	record := map[string]func(*Journal, Hop, Body, Body) int64{
		"Record": (*Journal).Record, "RecordTaken": (*Journal).RecordTaken,
		"RecordGiven": (*Journal).RecordGiven, "RecordRelay": (*Journal).RecordRelay,
	}
	for _, tt := range []struct {
		name   string
		sent   http.Header
		budget int
	}{
		{"fits", http.Header{"Ssp-Traceid": {"6b4ed8c1-9d2c-4d6a-8a4f-2f1d0c3b5e7a"}, "Accept": {"application/fhir+json"}, "Nil": nil}, 4096},
		{"clipped", http.Header{"Ssp-Traceid": {"6b4ed8c1-9d2c-4d6a-8a4f-2f1d0c3b5e7a"}, "X-Big": {strings.Repeat("y", 600)}}, 512},
		{"fits only without the keys added", http.Header{"X-Big": {strings.Repeat("y", 440)}}, 512},
	} {
		for name, rec := range record {
			t.Run(tt.name+", "+name, func(t *testing.T) {
				t.Parallel()
				forwarded := tt.sent.Clone()
				forwarded["X-Forwarded-For"] = []string{"127.0.0.1"}
				forwarded["X-Forwarded-Host"] = []string{"127.0.0.1:8080"}
				forwarded["X-Forwarded-Proto"] = []string{"http"}
				forwarded["Forwarded"] = []string{"for=127.0.0.1;host=\"127.0.0.1:8080\";proto=http"}
				forwarded["User-Agent"] = []string{""}
				before := forwarded.Clone()
				lim := Limits{Header: tt.budget}
				want, got := New(lim), New(lim)
				rec(want, Hop{Name: "ssp", RequestHeader: tt.sent.Clone(), ResponseHeader: res}, Body{Data: []byte("{}")}, Body{Data: []byte("{}")})
				got.RecordGiven(Hop{Name: "provider", RequestHeader: forwarded, ResponseHeader: res}, Body{}, Body{Data: []byte("[]")}) // another answer: RecordRelay shares none
				bytesBefore := got.Bytes()
				rec(got, Hop{Name: "ssp", RequestHeader: forwarded, RequestHeaderAdded: added, ResponseHeader: res}, Body{Data: []byte("{}")}, Body{Data: []byte("{}")})
				assert.Equal(t, got.Bytes()-bytesBefore, want.Bytes(), "bytes accounted for the hop")
				hops := got.Hops()
				w, g := want.Hops()[0], hops[1]
				assert.Equal(t, fmt.Sprint(g.RequestHeader), fmt.Sprint(w.RequestHeader), "request header read")
				assert.Equal(t, g.HeadersCut, w.HeadersCut, "HeadersCut")
				assert.Equal(t, len(g.RequestHeaderAdded), 0, "keys added, on a hop read")
				if tt.budget >= rawSize(before)+rawSize(res) {
					assert.Equal(t, fmt.Sprint(hops[0].RequestHeader), fmt.Sprint(before), "the provider's hop")
				}
				assert.Equal(t, fmt.Sprint(forwarded), fmt.Sprint(before), "the forwarded map")
				again := got.Hops()[1] // read once more: the map made on the first read
				assert.Equal(t, fmt.Sprint(again.RequestHeader), fmt.Sprint(w.RequestHeader), "request header read again")
				if j, _ := json.Marshal(g); strings.Contains(string(j), "Added") {
					t.Errorf("the keys added are in the hop's JSON: %s", j)
				}
			})
		}
	}
}
