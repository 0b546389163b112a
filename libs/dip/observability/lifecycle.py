"""Metrics of `dip maintain`: each table's data files and bytes before and after, rows expired, raw objects moved."""

from __future__ import annotations

from prometheus_client import Gauge

from dip.observability.metric_set import Metric, MetricSet


class MaintenanceMetrics(MetricSet):
    """``dip_table_*`` gauges of the last maintenance run, per table and stage (``before``, ``after``).

    Build it on the job's registry (``run.registry``) so the file/group of ``dip_job_*`` holds these too.
    """

    files = Metric(
        Gauge, "dip_table_data_files", "Live data files of a lake table around maintenance", ("table", "stage")
    )
    size = Metric(Gauge, "dip_table_data_bytes", "Bytes of a lake table's live data files", ("table", "stage"))
    expired = Metric(Gauge, "dip_table_rows_expired", "Rows deleted by retention in the last run", ("table",))
    raw_objects = Metric(Gauge, "dip_raw_zone_objects_moved", "Raw zone objects archived or expired", ("action",))

    def record_table(self, table: str, before: tuple[int, int], after: tuple[int, int], expired: int) -> None:
        """One table maintained: (files, bytes) before and after, rows removed by retention."""
        for stage, (files, size) in (("before", before), ("after", after)):
            self.files.labels(table, stage).set(files)
            self.size.labels(table, stage).set(size)
        self.expired.labels(table).set(expired)

    def record_raw(self, archived: int, expired: int) -> None:
        self.raw_objects.labels("archived").set(archived)
        self.raw_objects.labels("expired").set(expired)
