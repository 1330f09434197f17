package pds

import (
	"encoding/json"
	"sync"
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

// retrievals are the retrieve answers of one template's worlds.
type retrievals struct {
	mu    sync.Mutex
	m     map[string]*retrieved
	bytes int
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
	store := t.Shared(retrievalsKey{}, func() any { return &retrievals{} }).(*retrievals)
	store.mu.Lock()
	a := store.m[nhs]
	store.mu.Unlock()
	if a != nil {
		return a, nil
	}
	a, err := s.encodeRetrieved(nhs)
	if err != nil {
		return nil, err
	}
	store.put(nhs, a)
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

func (c *retrievals) put(nhs string, a *retrieved) {
	if len(a.body) > maxRetrievedBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxRetrieved || c.bytes+len(a.body) > maxRetrievedBytes {
		c.m, c.bytes = make(map[string]*retrieved), 0
	}
	if old, ok := c.m[nhs]; ok {
		c.bytes -= len(old.body)
	}
	c.m[nhs] = a
	c.bytes += len(a.body)
}
