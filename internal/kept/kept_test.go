package kept_test

import (
	"bytes"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/kept"
)

// keeper keeps what it is handed.
type keeper struct {
	kept    [][]byte
	written bytes.Buffer
}

func (k *keeper) WriteKept(b []byte) (int, error) { k.kept = append(k.kept, b); return len(b), nil }
func (k *keeper) Write(b []byte) (int, error)     { return k.written.Write(b) }

// TestWrite: a Writer is handed the bytes themselves; any other writer
// gets a Write.
func TestWrite(t *testing.T) {
	b := []byte("answer")
	var k keeper
	if n, err := kept.Write(&k, b); n != len(b) || err != nil {
		t.Fatalf("Write to a Writer: %d, %v", n, err)
	}
	if len(k.kept) != 1 || &k.kept[0][0] != &b[0] || k.written.Len() != 0 {
		t.Errorf("a Writer was not handed the bytes themselves: kept %q, written %q", k.kept, k.written.String())
	}
	var buf bytes.Buffer
	if n, err := kept.Write(&buf, b); n != len(b) || err != nil || buf.String() != "answer" {
		t.Errorf("Write to another writer: %d, %v, %q", n, err, buf.String())
	}
}
