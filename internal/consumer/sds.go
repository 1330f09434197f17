package consumer

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Endpoint is where and to whom one interaction goes at one practice, as
// SDS says (gpconnect-1.6.md §1.2b).
type Endpoint struct {
	ODS         string
	Interaction gpc.Interaction
	Address     string // the provider's service root, verbatim
	PartyKey    string
	ASID        string
}

// Endpoint looks up the service root, party key (2a/2b) and ASID (2c/2d)
// of interaction at the practice ods, cached per (ODS, interaction) in the
// session. Service roots are per interaction: never reuse one for another.
func (s *Session) Endpoint(ctx context.Context, ods string, interaction gpc.Interaction) (*Endpoint, error) {
	key := endpointKey{ods, interaction}
	if ep, ok := s.endpoints[key]; ok {
		return ep, nil
	}
	if t, ok, err := sdsLDAP(s.c.cfg.SDS); ok {
		// An ldap:// or ldaps:// SDS: §1.2a's LDAP queries (sdsldap.go).
		if err != nil {
			return nil, err
		}
		ep, err := s.endpointLDAP(ctx, t, ods, interaction)
		if err == nil {
			s.endpoints[key] = ep
		}
		return ep, err
	}
	org := gpc.SystemODSCode + "|" + ods
	var q Query
	q.Add("organization", org)
	q.Add("identifier", gpc.SystemInteractionID+"|"+string(interaction))
	c := s.sdsCall("2a", "/Endpoint", q, interaction)
	endpoints, status, err := sdsSearch[r4Endpoint](ctx, s, c, "Endpoint")
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{ODS: ods, Interaction: interaction}
	for _, r := range endpoints {
		if r.Address == "" {
			continue
		}
		ep.Address = r.Address
		for _, id := range r.Identifier {
			if str(id.System) == gpc.SystemPartyKey {
				ep.PartyKey = str(id.Value)
			}
		}
		break
	}
	if ep.Address == "" || ep.PartyKey == "" {
		return nil, &Error{Kind: ErrNoEndpoint, Hop: HopSDS, Step: "2a", Interaction: string(interaction), Status: status,
			Diagnostics: fmt.Sprintf("SDS has no endpoint with an address and party key for practice %s and interaction %s", ods, interaction)}
	}
	q = nil
	q.Add("organization", org)
	q.Add("identifier", gpc.SystemInteractionID+"|"+string(interaction))
	q.Add("identifier", gpc.SystemPartyKey+"|"+ep.PartyKey)
	c = s.sdsCall("2c", "/Device", q, interaction)
	devices, status, err := sdsSearch[r4Device](ctx, s, c, "Device")
	if err != nil {
		return nil, err
	}
	for _, r := range devices {
		for _, id := range r.Identifier {
			if str(id.System) == gpc.SystemASID && str(id.Value) != "" {
				ep.ASID = str(id.Value)
				break
			}
		}
		if ep.ASID != "" {
			break
		}
	}
	if ep.ASID == "" {
		return nil, &Error{Kind: ErrNoDevice, Hop: HopSDS, Step: "2c", Interaction: string(interaction), Status: status,
			Diagnostics: fmt.Sprintf("SDS has no device (ASID) for practice %s, interaction %s, party key %s", ods, interaction, ep.PartyKey)}
	}
	s.endpoints[key] = ep
	return ep, nil
}

func (s *Session) sdsCall(step, path string, q Query, interaction gpc.Interaction) call {
	return call{step: step, service: HopSDS, interaction: interaction, method: http.MethodGet, retry: true,
		url: strings.TrimSuffix(s.c.cfg.SDS, "/") + path + "?" + q.Encode(),
		header: func() (http.Header, error) {
			// SDS rejects a non-UUID X-Correlation-Id (pds-sds-fhir.md §3.3);
			// Apikey is apikey as http.Header.Set spells it.
			return header("Apikey", s.c.cfg.APIKey, "X-Correlation-Id", gpc.NewUUID(), "Accept", "application/fhir+json"), nil
		}}
}

// sdsSearch runs one SDS search and returns its entries' resources that
// are R4 resources of type want, in order (searchsetOf), and the answer's
// status.
func sdsSearch[T any](ctx context.Context, s *Session, c call, want string) ([]*T, int, error) {
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	defer resp.release()
	rs, err := searchsetOf[T](resp.body, want)
	if err != nil {
		return nil, resp.status, badResponse(c, resp.status, "SDS answer is not a Bundle: %v", err)
	}
	return rs, resp.status, nil
}

// searchsetOf decodes raw, an R4 Bundle, and returns the resources of its
// entries that are R4 resources of type want, in order: an entry that is
// not one (another type, none, or not valid R4) is skipped. When the whole
// answer decodes with its entries' resources as Ts — every answer SDS
// gives — that is one pass; otherwise it takes two (searchsetTwoPasses),
// as every answer did before (half of decoding an SDS answer).
func searchsetOf[T any](raw []byte, want string) ([]*T, error) {
	if b, err := decodeR4[r4Searchset[T]](raw, "Bundle"); err == nil {
		out := make([]*T, 0, len(b.Entry))
		for _, e := range b.Entry {
			if r := e.Resource; r != nil && r.ResourceType == want {
				out = append(out, &r.Resource)
			}
		}
		return out, nil
	}
	return searchsetTwoPasses[T](raw, want)
}

// searchsetTwoPasses is searchsetOf in two passes: the Bundle with its
// entries' resources left raw, then each of them on its own, one that is
// not an R4 resource of type want skipped. It reads any answer the one
// pass cannot, and is the one pass's reference
// (TestSearchsetOfLikeTwoPasses).
func searchsetTwoPasses[T any](raw []byte, want string) ([]*T, error) {
	b, err := decodeR4[r4Bundle](raw, "Bundle")
	if err != nil {
		return nil, err
	}
	var out []*T
	for _, e := range b.Entry {
		if r, err := decodeR4[T](e.Resource, want); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}
