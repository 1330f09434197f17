// Package consumer is a real GP Connect 1.6 consumer: it traces the patient
// on PDS FHIR (R4), finds the practice's service root and ASID on SDS FHIR
// (R4), and calls the provider through the Spine Secure Proxy (STU3) to
// search free slots, find or register the patient and book, read, amend,
// cancel and list appointments (gpconnect-1.6.md §1, §3–§5).
//
// Its five actions (book, slots, appointments, cancel, amend) are
// Session.Do: gpc-consumer and the scenario runner both call it, so for the
// same Request they make the same requests; the rules of slot search
// windows are searchPlan's. PDS and SDS answers (R4) are decoded with the R4
// models of samply/golang-fhir-models (r4.go has their sharp edges), the
// provider's (STU3) with internal/stu3.
//
// It knows nothing of the sandbox: it speaks only HTTP to the base URLs it is
// given, so it works against NHS's integration environment (with mutual TLS)
// exactly as against spine-sandbox.
package consumer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// Config is what a Client needs: where Spine is, and who the consumer is.
type Config struct {
	PDS string // PDS FHIR R4 base, e.g. .../personal-demographics/FHIR/R4
	SDS string // SDS FHIR R4 base, e.g. .../spine-directory/FHIR/R4, or SDS's LDAP directory as ldap[s]://host:port (sdsldap.go)
	SSP string // SSP base; the service root is appended after it

	ASID     string       // the consumer's own ASID (Ssp-From)
	Identity jwt.Identity // who the JWT says is asking; OrgODS/OrgName are the booking organisation
	// OrgTelecom is the booking organisation's phone number: the contained
	// Organization SHALL have one (gpconnect-1.6.md §4.2).
	OrgTelecom string
	APIKey     string // SDS apikey header (any value in sandboxes)

	HTTPClient *http.Client     // nil: a plain client (see TLSClient for Spine)
	Timeout    time.Duration    // per attempt; 0 means 10s
	Backoff    time.Duration    // first retry delay; 0 means 200ms, doubled each try
	Now        func() time.Time // clock; nil means time.Now
	// Observer, if set, is called after every HTTP attempt, synchronously
	// on the journey's goroutine: a caller may act between two steps (for
	// example take a slot after the search, before the book).
	Observer func(Hop)
	// CapabilityTTL is how long a provider's capability statement is
	// trusted; 0 means 1h.
	CapabilityTTL time.Duration
}

// Hop is one HTTP exchange, reported to Config.Observer as it happens.
type Hop struct {
	Step        string          // step id from DESIGN.md's table
	Service     string          // pds, sds or ssp: whom the consumer called
	Interaction gpc.Interaction // for SSP calls
	Method      string
	URL         string
	Status      int // 0 when there was no answer
	Duration    time.Duration
	Attempt     int // 1, 2, 3 for retried GETs
	Err         error
}

// Client talks to one Spine. It is safe for concurrent use; per-encounter
// caches live in a Session.
type Client struct {
	cfg  Config
	http *http.Client

	mu   sync.Mutex
	caps map[string]capEntry // service root → capability statement
}

type capEntry struct {
	cs      *stu3.CapabilityStatement
	fetched time.Time
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	var missing []string
	for name, v := range map[string]string{"PDS": cfg.PDS, "SDS": cfg.SDS, "SSP": cfg.SSP, "ASID": cfg.ASID,
		"organisation ODS": cfg.Identity.OrgODS, "organisation name": cfg.Identity.OrgName} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("consumer: config lacks %v", missing)
	}
	// Build a token once so an incomplete identity fails here, not at the
	// provider with a 400.
	if _, err := jwt.Build(cfg.Identity, "https://check.invalid/STU3/1/gpconnect", gpc.OrganizationRead, time.Now()); err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CapabilityTTL <= 0 {
		cfg.CapabilityTTL = time.Hour
	}
	if cfg.APIKey == "" {
		// SDS sits behind Apigee, which wants an apikey (pds-sds-fhir.md §3.3).
		cfg.APIKey = "spine-sandbox-consumer"
	}
	if cfg.OrgTelecom == "" {
		cfg.OrgTelecom = "0300 000 0000"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, http: hc, caps: map[string]capEntry{}}, nil
}

// TLSClient returns an HTTP client for real Spine: mutual TLS with the
// consumer's certificate and key, trusting the CA in caFile (the system
// roots when ""), TLS 1.2 at least (gpconnect-1.6.md §1.4).
func TLSClient(certFile, keyFile, caFile string) (*http.Client, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("consumer: client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("consumer: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("consumer: CA file holds no PEM certificate")
		}
		conf.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = conf
	return &http.Client{Transport: tr}, nil
}

// Session is one patient encounter: it caches PDS traces, SDS lookups and
// the patient's logical id at each practice, which the spec allows within a
// session but not across encounters (gpconnect-1.6.md §1.2). Not safe for
// concurrent use.
type Session struct {
	c         *Client
	traces    map[string]*Trace
	endpoints map[endpointKey]*Endpoint
	patients  map[string]*ProviderPatient // ODS + NHS number → patient at that practice
}

type endpointKey struct {
	ods         string
	interaction gpc.Interaction
}

// NewSession starts an encounter with empty caches.
func (c *Client) NewSession() *Session {
	return &Session{c: c, traces: map[string]*Trace{}, endpoints: map[endpointKey]*Endpoint{}, patients: map[string]*ProviderPatient{}}
}
