// Package goconsumer stands for a GP Connect consumer in a project of its
// own: it is configured with Spine's base URLs and looks a patient up on
// PDS. Its test (consumer_test.go) runs it against the spine-sandbox in
// process, through the public package github.com/spine-sandbox/spine-sandbox.
package goconsumer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Spine is where the consumer finds PDS, SDS and the SSP.
type Spine struct {
	PDS, SDS, SSP string
	ASID          string // the consumer's own ASID, sent as Ssp-From
}

// RegisteredPractice returns the ODS code of the GP practice PDS holds for
// the patient with nhsNumber.
func (s Spine) RegisteredPractice(ctx context.Context, nhsNumber string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.PDS+"/Patient/"+nhsNumber, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Request-ID", "0b1e6a52-2d5c-4e8f-9b55-1c2a3d4e5f60")
	req.Header.Set("Accept", "application/fhir+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("PDS answered %s", res.Status)
	}
	var p struct {
		GeneralPractitioner []struct {
			Identifier struct {
				Value string `json:"value"`
			} `json:"identifier"`
		} `json:"generalPractitioner"`
	}
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		return "", err
	}
	if len(p.GeneralPractitioner) == 0 {
		return "", fmt.Errorf("PDS holds no GP for %s", nhsNumber)
	}
	return p.GeneralPractitioner[0].Identifier.Value, nil
}
