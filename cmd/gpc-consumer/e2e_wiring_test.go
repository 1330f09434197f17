package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// spine is a running sandbox: the three base URLs a consumer needs.
type spine struct{ PDS, SDS, SSP string }

// startSpine wires the four mocks on 127.0.0.1 around one world built from
// scenarioYAML ("" = the built-in world), stopped at test cleanup.
// slowBook, when > 0, delays the provider's first booking answer (after
// the booking is made) by that long.
//
// This stands in for sandboxtest.Start until the sandbox lands; only this
// file knows the mocks.
func startSpine(t *testing.T, scenarioYAML string, slowBook time.Duration) spine {
	t.Helper()
	sc := scenario.Default()
	if scenarioYAML != "" {
		var err error
		if sc, err = scenario.Load(t.Name()+".yaml", []byte(scenarioYAML)); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	data, err := sc.World(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := world.New(data, base, nil)
	prov := provider.New(w)
	if slowBook > 0 {
		var once bool
		inner := prov
		prov = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Appointment") && !once {
				once = true
				rec := httptest.NewRecorder()
				inner.ServeHTTP(rec, r)
				time.Sleep(slowBook)
				for k, v := range rec.Header() {
					rw.Header()[k] = v
				}
				rw.WriteHeader(rec.Code)
				_, _ = rw.Write(rec.Body.Bytes())
				return
			}
			inner.ServeHTTP(rw, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/personal-demographics/FHIR/R4/", http.StripPrefix("/personal-demographics/FHIR/R4", pds.New(w)))
	mux.Handle("/spine-directory/FHIR/R4/", http.StripPrefix("/spine-directory/FHIR/R4", sds.New(w)))
	mux.Handle("/provider/", http.StripPrefix("/provider", prov))
	sp := ssp.New(ssp.Config{World: w, Prefix: "/ssp/"})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ssp/") {
			sp.ServeHTTP(rw, r) // the SSP reads the raw path; ServeMux would clean "//"
			return
		}
		mux.ServeHTTP(rw, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return spine{PDS: base + "/personal-demographics/FHIR/R4", SDS: base + "/spine-directory/FHIR/R4", SSP: base + "/ssp/"}
}
