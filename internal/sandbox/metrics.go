package sandbox

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
)

// metrics are what an operator of replicas watches (GET /_admin/metrics,
// Prometheus text format). Each Server has its own registry, never the
// client library's global one, so servers in one process (tests, the
// scale-out test's replicas) do not collide.
//
// Every label takes values from a fixed set — the parties (pds, sds, ssp,
// provider), status classes, the conformance catalogue's check names —
// never a session id, so the series do not grow with the sessions, and a
// scrape costs one pass over the sessions for the two gauges (a read lock
// and an atomic-ish Len/Bytes each): bounded with 1,000 sessions.
type metrics struct {
	// scrapes holds a token per scrape in flight (metricsHandler).
	scrapes  chan struct{}
	reg      *prometheus.Registry
	hops     *prometheus.CounterVec
	refusals *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// series are hops' and latency's children by service, and hops' by
	// status class, each looked up once (WithLabelValues hashes its
	// labels on every call) and kept.
	series sync.Map // seriesKey -> prometheus.Counter or prometheus.Observer
}

// seriesKey names a kept child of hops (class set) or latency (class "").
type seriesKey struct{ service, class string }

// newMetrics registers the sandbox's metrics for s.
func newMetrics(s *Server) *metrics {
	m := &metrics{
		scrapes: make(chan struct{}, maxScrapes),
		reg:     prometheus.NewRegistry(),
		hops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spine_sandbox_hops_total",
			Help: "Hops recorded in the sessions' journals, by the service that answered and the status class (dropped: the connection was dropped).",
		}, []string{"service", "status"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spine_sandbox_refusals_total",
			Help: "Failed conformance checks on hops answered with an error (4xx/5xx), by check: what the sandbox refused and why.",
		}, []string{"check"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spine_sandbox_request_duration_seconds",
			Help:    "Time the sandbox took to answer a hop, faults' delays included, by service.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"service"}),
	}
	m.reg.MustRegister(m.hops, m.refusals, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spine_sandbox_sessions",
			Help: "Sessions open on this replica, the default session included.",
		}, func() float64 {
			s.mu.RLock()
			defer s.mu.RUnlock()
			return float64(len(s.sessions))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spine_sandbox_journal_bytes",
			Help: "Bytes the sessions' journals hold, summed at scrape time.",
		}, func() float64 {
			var n int64
			for _, ss := range s.sessionList() {
				n += ss.Journal.Bytes()
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spine_sandbox_draining",
			Help: "1 while the replica drains (SIGTERM): it takes no new sessions or runs.",
		}, func() float64 {
			if s.Draining() {
				return 1
			}
			return 0
		}),
	)
	return m
}

// sessionList is the sessions in no order: Sessions without the sort, for
// a scrape.
func (s *Server) sessionList() []*Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// observe counts one recorded hop.
func (m *metrics) observe(h *journal.Hop) {
	service := string(h.To)
	m.counter(service, statusClass(h.Status)).Inc()
	m.observer(service).Observe(h.Duration.Seconds())
	if h.Status < 400 {
		return
	}
	for _, c := range h.Checks {
		if !c.Passed && c.Check != "" {
			m.refusals.WithLabelValues(c.Check).Inc()
		}
	}
}

// counter is hops' child for service and class.
func (m *metrics) counter(service, class string) prometheus.Counter {
	k := seriesKey{service, class}
	if c, ok := m.series.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.series.LoadOrStore(k, m.hops.WithLabelValues(service, class))
	return c.(prometheus.Counter)
}

// observer is latency's child for service.
func (m *metrics) observer(service string) prometheus.Observer {
	k := seriesKey{service: service}
	if o, ok := m.series.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o, _ := m.series.LoadOrStore(k, m.latency.WithLabelValues(service))
	return o.(prometheus.Observer)
}

// statusClass is a status's class label: "2xx" … "5xx", "dropped" for a
// dropped connection (0), "other" for anything else.
func statusClass(status int) string {
	switch {
	case status == 0:
		return "dropped"
	case status >= 100 && status < 600:
		return statusClasses[status/100-1]
	}
	return "other"
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// observed counts a hop the session just recorded in its journal.
func (ss *Session) observed(h *journal.Hop) {
	if ss.metrics != nil {
		ss.metrics.observe(h)
	}
}

// maxScrapes bounds the scrapes in flight: a scrape storm answers 503,
// not 1,000 passes over the sessions.
const maxScrapes = 4

// metricsHandler serves the registry (GET /_admin/metrics); the admin
// guard in front of it asks for the token when one is set. A scrape past
// maxScrapes is refused through the admin API's one writer, as any other
// refusal.
func (s *Server) metricsHandler() handlerFunc {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return func(w http.ResponseWriter, r *http.Request) error {
		select {
		case s.metrics.scrapes <- struct{}{}:
			defer func() { <-s.metrics.scrapes }()
		default:
			return errorf(http.StatusServiceUnavailable, "%d metrics scrapes are in flight; try again when one ends", maxScrapes)
		}
		h.ServeHTTP(w, r)
		return nil
	}
}

// promLogger hands the client library's errors to the server's logger.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) {
	l.s.cfg.Logger.Warn("serving metrics", "err", v)
}
