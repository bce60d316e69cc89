"""Supervisors' KPIs: the metric dictionary, rollup tables kept after each commit (rebuildable from
the raw tables), the dashboard and its CSV exports. Definitions: METRICS.md."""
