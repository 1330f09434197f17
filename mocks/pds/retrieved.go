package pds

import (
	"encoding/json"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// A retrieve's answer depends only on the patient records of the world,
// which no rule changes (world.Template shares them between its worlds as
// they are), and has no per-request part: so it is encoded once per
// template and NHS number asked for, instead of decoding and encoding the
// Patient again for every request (issue 15: ~80 µs a retrieve). Errors
// are not kept; they cost nothing to find again.

// maxRetrieved and maxRetrievedBytes bound the answers kept per template;
// past either the store starts afresh. A journey retrieves one patient.
const (
	maxRetrieved      = 256
	maxRetrievedBytes = 1 << 20
)

// retrieved is the encoded answer to a retrieve: the body and the
// versionId its ETag carries.
type retrieved struct {
	body    []byte
	version int
}

// retrievalsKey is the key of a template's retrievals (world.Template.Shared).
type retrievalsKey struct{}

// retrieved returns the answer to a retrieve of nhs, a valid NHS number:
// from the template's store when it has it, else encoded and kept.
func (s *server) retrieved(nhs string) (*retrieved, error) {
	t := s.world.Template()
	if t == nil {
		return s.encodeRetrieved(nhs)
	}
	store := t.Shared(retrievalsKey{}, func() any { return world.NewStore[string, *retrieved](maxRetrieved, maxRetrievedBytes) }).(*world.Store[string, *retrieved])
	if a, ok := store.Get(nhs); ok {
		return a, nil
	}
	a, err := s.encodeRetrieved(nhs)
	if err != nil {
		return nil, err
	}
	store.Put(nhs, a, len(a.body))
	return a, nil
}

// encodeRetrieved encodes the answer to a retrieve of nhs.
func (s *server) encodeRetrieved(nhs string) (*retrieved, error) {
	p, err := s.current(nhs)
	if err != nil {
		return nil, err
	}
	res, err := patientJSON(p, false)
	if err != nil {
		return nil, err
	}
	// As writeJSON encodes: json.Marshal compacts and escapes the Patient.
	body, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return &retrieved{body: body, version: p.VersionID}, nil
}
