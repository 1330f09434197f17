package gpc

import (
	"crypto/rand"
	"fmt"
)

// NewUUID returns a random RFC 4122 version 4 UUID in lower case: the form
// of an Ssp-TraceID (gpconnect-1.6.md §1.3), and of the ids the SSP gives
// its own OperationOutcomes (§1.5).
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
