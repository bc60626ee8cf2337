"""GET /metrics: Prometheus text built with prometheus_client from the service-wide counters in Redis."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from docparse.jobs.metrics import Snapshot
from docparse.jobs.orchestrator import Orchestrator
from docparse.jobs.state import JobState


class SnapshotCollector(Collector):
    """Exposes one snapshot (read asynchronously beforehand: collectors themselves cannot await Redis)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        s = self.snap
        finished = CounterMetricFamily("docparse_jobs_finished", "Jobs that ended, by final status", labels=["status"])
        for status in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED):
            finished.add_metric([status.value], s.jobs_finished.get(status, 0))
        yield finished
        jobs = GaugeMetricFamily("docparse_jobs", "Jobs waiting or running now, by status", labels=["status"])
        jobs.add_metric([JobState.QUEUED.value], s.queued)
        jobs.add_metric([JobState.PROCESSING.value], s.active)
        yield jobs
        yield GaugeMetricFamily("docparse_queue_depth", "Jobs waiting in the queue", value=s.queued)
        yield GaugeMetricFamily("docparse_workers", "Workers that reported in the last seconds", value=s.workers)
        yield CounterMetricFamily("docparse_pages_parsed", "Pages parsed", value=s.pages_parsed)
        yield CounterMetricFamily("docparse_pages_failed", "Pages that could not be parsed", value=s.pages_failed)
        yield CounterMetricFamily("docparse_uploads", "Uploads accepted", value=s.uploads)
        yield CounterMetricFamily("docparse_upload_bytes", "Bytes of accepted uploads", value=s.upload_bytes)
        buckets = [(str(bound), count) for bound, count in s.parse_seconds_buckets]
        buckets.append(("+Inf", s.parse_seconds_count))
        yield HistogramMetricFamily(
            "docparse_parse_seconds", "Time a job spent parsing", buckets=buckets, sum_value=s.parse_seconds_sum
        )


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get(operation_id="metrics")
    async def metrics(self, jobs: Orchestrator) -> Response[bytes]:
        snap = await jobs.metrics_snapshot()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SnapshotCollector(snap))
        # The process's own metrics (GC, memory, CPU) from the default registry, then the service's.
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
