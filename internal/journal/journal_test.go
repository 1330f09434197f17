package journal

import (
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestAppendNumbersAndBounds(t *testing.T) {
	t.Parallel()
	j := New(3)
	for i := 0; i < 5; i++ {
		j.Append(Hop{Name: "pds.retrieve"})
	}
	hops := j.Hops()
	assert.Equal(t, len(hops), 3, "len(hops)")
	assert.Equal(t, hops[0].Seq, int64(3), "oldest kept seq")
	assert.Equal(t, hops[2].Seq, int64(5), "newest seq")
	assert.Equal(t, j.Dropped(), int64(2), "dropped")
	assert.Equal(t, len(j.Since(4)), 1, "len(Since(4))")
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	j := New(0)
	ch, cancel := j.Subscribe(10)
	j.Append(Hop{Name: "a"})
	j.Append(Hop{Name: "b"})
	assert.Equal(t, (<-ch).Name, "a", "first hop")
	assert.Equal(t, (<-ch).Name, "b", "second hop")
	cancel()
	cancel()                 // idempotent
	j.Append(Hop{Name: "c"}) // must not block or panic
	if _, ok := <-ch; ok {
		t.Error("channel still open after cancel")
	}
}

func TestConcurrentAppend(t *testing.T) {
	t.Parallel()
	j := New(100)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				j.Append(Hop{})
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, len(j.Hops()), 100, "kept")
	assert.Equal(t, j.Hops()[99].Seq, int64(1000), "last seq")
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
