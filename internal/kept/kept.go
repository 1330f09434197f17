// Package kept lets a handler hand its response writer bytes the writer
// may keep rather than copy: bytes nobody changes, ever — an answer the
// provider keeps encoded for every request that asks for it. The sandbox's
// journal then keeps the answer itself for each hop that carried it, not a
// copy per hop.
package kept

import "io"

// Writer is a writer that can keep what it is handed.
type Writer interface {
	// WriteKept writes b as Write does, and may keep b itself rather
	// than a copy: the caller never changes b, nor does anyone else.
	WriteKept(b []byte) (int, error)
}

// Write writes b to w, which keeps it when it can (Writer), else copies it
// as Write does. b must never change.
func Write(w io.Writer, b []byte) (int, error) {
	if k, ok := w.(Writer); ok {
		return k.WriteKept(b)
	}
	return w.Write(b)
}
