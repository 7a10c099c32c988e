// Package metrics holds the Prometheus collectors of a userevents process.
// Labels carry routes, statuses and reasons, never user ids, names or IP
// addresses, so their number stays bounded.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors. A nil *Metrics records nothing, so
// packages can take one without checking.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	eventsAccepted  prometheus.Counter
	eventsDuplicate prometheus.Counter
	authFailures    *prometheus.CounterVec
	delivered       prometheus.Counter
	deliveryRetries prometheus.Counter
	deadLetters     prometheus.Counter
	deliveryLag     prometheus.Histogram
}

// New returns collectors registered in a new registry, with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "userevents_http_requests_total",
			Help: "HTTP requests served, by listener, route pattern, method and status code.",
		}, []string{"listener", "route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "userevents_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by listener and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"listener", "route"}),
		eventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "userevents_events_accepted_total",
			Help: "User events stored by intake.",
		}),
		eventsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "userevents_events_duplicate_total",
			Help: "User events skipped by intake because their event_id was already stored.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "userevents_auth_failures_total",
			Help: "Rejected requests, by reason: unauthenticated, locked or forbidden.",
		}, []string{"reason"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "userevents_delivery_lines_total",
			Help: "Events confirmed by the log stream.",
		}),
		deliveryRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "userevents_delivery_retries_total",
			Help: "Events scheduled for another delivery attempt after a failed send.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "userevents_delivery_dead_letters_total",
			Help: "Events moved to the dead letters because no retry can deliver them.",
		}),
		deliveryLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "userevents_delivery_lag_seconds",
			Help:    "Time from intake to confirmation by the log stream.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.eventsAccepted, m.eventsDuplicate, m.authFailures,
		m.delivered, m.deliveryRetries, m.deadLetters, m.deliveryLag,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// MustRegister adds collectors, such as a gauge read from the store, to
// the registry.
func (m *Metrics) MustRegister(cs ...prometheus.Collector) {
	if m != nil {
		m.Registry.MustRegister(cs...)
	}
}

// ObserveRequest records one served request.
func (m *Metrics) ObserveRequest(listener, route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(listener, route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(listener, route).Observe(d.Seconds())
}

// EventsAccepted records an intake batch.
func (m *Metrics) EventsAccepted(stored, duplicates int) {
	if m == nil {
		return
	}
	m.eventsAccepted.Add(float64(stored))
	m.eventsDuplicate.Add(float64(duplicates))
}

// AuthFailure records a rejected request.
func (m *Metrics) AuthFailure(reason string) {
	if m != nil {
		m.authFailures.WithLabelValues(reason).Inc()
	}
}

// Delivered records events confirmed by the log stream and their lags.
func (m *Metrics) Delivered(lags []time.Duration) {
	if m == nil {
		return
	}
	m.delivered.Add(float64(len(lags)))
	for _, l := range lags {
		m.deliveryLag.Observe(l.Seconds())
	}
}

// DeliveryRetried records events scheduled for another attempt.
func (m *Metrics) DeliveryRetried(n int) {
	if m != nil {
		m.deliveryRetries.Add(float64(n))
	}
}

// DeadLettered records events moved to the dead letters.
func (m *Metrics) DeadLettered(n int) {
	if m != nil {
		m.deadLetters.Add(float64(n))
	}
}

// RegisterBacklog adds gauges of the delivery queue, read from backlog at
// each scrape: its depth and the age of its oldest event. A failed read
// reports the gauges as zero, and the scrape still succeeds.
func (m *Metrics) RegisterBacklog(backlog func() (int, time.Time, error)) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "userevents_delivery_queue_depth",
			Help: "Events queued for delivery and not yet confirmed by the log stream.",
		}, func() float64 {
			n, _, err := backlog()
			if err != nil {
				return 0
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "userevents_delivery_oldest_pending_age_seconds",
			Help: "Age of the oldest event queued for delivery; zero when the queue is empty.",
		}, func() float64 {
			_, oldest, err := backlog()
			if err != nil || oldest.IsZero() {
				return 0
			}
			return time.Since(oldest).Seconds()
		}),
	)
}
