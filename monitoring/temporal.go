package monitoring

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// TemporalBuckets are the histogram boundaries, in seconds, of the Temporal
// SDK's timers. OpenTelemetry's defaults (0, 5, 10, 25, … 10000) suit
// milliseconds and would put every task latency in the first bucket.
var TemporalBuckets = []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewTemporalMetrics returns a metrics handler for the Temporal SDK's
// clients and workers that exports to reg under the names the Temporal
// community dashboards use: timers as temporal_*_seconds histograms,
// counters as temporal_*_total, gauges as they are. Give it to
// client.Options.MetricsHandler; workers inherit it from their client.
func NewTemporalMetrics(reg prometheus.Registerer, log *slog.Logger) (client.MetricsHandler, error) {
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	seconds := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: TemporalBuckets}},
	)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(seconds))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		// A meter error (an instrument redefined with another kind) costs
		// one series, not the process: log it.
		OnError: func(err error) { log.Warn("temporal sdk metric", "err", err) },
	}), nil
}
