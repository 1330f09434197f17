package world_test

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestStoreBounded: a store keeps what it is given within its bounds — at
// most max values and maxBytes of their sizes, starting afresh past either
// — a value put again replaces the old one in the count, and a value over
// a quarter of the bytes is not kept.
func TestStoreBounded(t *testing.T) {
	t.Parallel()
	const max, maxBytes = 8, 1600
	s := world.NewStore[int, string](max, maxBytes)
	for i := range 3 * max {
		s.Put(i, "v", maxBytes/16)
		if n, b := s.Len(); n > max || b > maxBytes {
			t.Fatalf("after %d puts: %d values, %d bytes kept", i+1, n, b)
		}
	}
	r := world.NewStore[int, string](max, maxBytes)
	r.Put(1, "a", 10)
	r.Put(1, "b", 20)
	v, ok := r.Get(1)
	assert.Equal(t, v+" "+map[bool]string{true: "kept"}[ok], "b kept", "the value put last")
	n, b := r.Len()
	assert.Equal(t, [2]int{n, b}, [2]int{1, 20}, "values and bytes after a value is put again")
	n, b = s.Len()
	s.Put(101, "big", maxBytes/4+1)
	_, ok = s.Get(101)
	assert.Equal(t, ok, false, "a value over a quarter of the bytes kept")
	n2, b2 := s.Len()
	assert.Equal(t, [2]int{n2, b2}, [2]int{n, b}, "the store after refusing a value")
	for i := range 20 {
		s.Put(200+i, "w", maxBytes/8)
	}
	if n, b := s.Len(); b > maxBytes || n > max {
		t.Fatalf("%d values, %d bytes kept after the bytes ran out", n, b)
	}
}
