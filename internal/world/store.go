package world

import "sync"

// Store is a bounded map of answers that a template's worlds share
// (Template.Shared): encoded answers that depend only on what no rule
// changes. It keeps at most max values and maxBytes of their sizes; past
// either it starts afresh, and a value over a quarter of maxBytes is not
// kept. Safe for concurrent use.
type Store[K comparable, V any] struct {
	max, maxBytes int

	mu    sync.Mutex
	m     map[K]stored[V]
	bytes int // the sizes of the values in m
}

type stored[V any] struct {
	v    V
	size int
}

// NewStore returns a store of at most max values and maxBytes bytes.
func NewStore[K comparable, V any](max, maxBytes int) *Store[K, V] {
	return &Store[K, V]{max: max, maxBytes: maxBytes}
}

// Get returns the value kept under k.
func (s *Store[K, V]) Get(k K) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	return e.v, ok
}

// Put keeps v, of size bytes, under k, within the store's bounds.
func (s *Store[K, V]) Put(k K, v V, size int) {
	if size > s.maxBytes/4 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= s.max || s.bytes+size > s.maxBytes {
		s.m, s.bytes = make(map[K]stored[V]), 0
	}
	if old, ok := s.m[k]; ok {
		s.bytes -= old.size
	}
	s.m[k] = stored[V]{v, size}
	s.bytes += size
}

// Len returns how many values the store keeps and their size.
func (s *Store[K, V]) Len() (values, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), s.bytes
}
