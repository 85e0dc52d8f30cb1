import Metrics
import Prometheus

/// The service's metrics through swift-metrics, exported in Prometheus' text format by
/// swift-prometheus: jobs by outcome, bytes in and out, a histogram per engine phase, the
/// queue's length.
public final class ServiceMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()

    /// Installs this registry as the process's metrics backend (swift-metrics allows one
    /// bootstrap per process: one service).
    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Engine phases run from microseconds (a halo on a small image) to seconds (a 64 MP
        // read); the default buckets start at 5 ms.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// Counts one answered job: its outcome, its bytes, and on success each phase's time.
    func record(_ result: JobResult, bytesIn: Int) {
        Counter(label: "bandsaw_jobs_total", dimensions: [("outcome", result.outcome)]).increment()
        Counter(label: "bandsaw_bytes_in_total").increment(by: bytesIn)
        Counter(label: "bandsaw_bytes_out_total").increment(by: result.body.count)
        for phase in result.phases {
            Timer(label: "bandsaw_phase_seconds", dimensions: [("phase", phase.name)])
                .recordNanoseconds(Int64((phase.milliseconds * 1_000_000).rounded()))
        }
    }

    /// The text a Prometheus scrape reads, with the queue's length as it is now.
    func exposition(queueLength: Int) -> [UInt8] {
        Gauge(label: "bandsaw_queue_length").record(queueLength)
        return registry.emitToBuffer()
    }
}
