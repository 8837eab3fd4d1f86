"""Reports and dashboards (统计报表): metrics computed with SQL aggregation over the viewer's data scope."""
