#!/usr/bin/env python3
"""Writes sessiongate.json, the Grafana dashboard, next to this file.

The dashboard is kept as this program so a change is a readable diff; the JSON is what Grafana
imports (Dashboards > New > Import, then pick the Prometheus data source). `scripts/lint-conf`
fails when the JSON is not what this program writes, and `tests/observability.rs` checks that
every series the dashboard queries exists in /metrics after traffic.
"""
import json
import pathlib
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
STORE = 'store=~"$store"'
RATE = "$__rate_interval"


def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(kind, title, targets, unit="short", description="", w=12, h=8, **extra):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"w": w, "h": h},
    }
    p.update(extra)
    return p


def timeseries(title, targets, unit="short", description="", w=12):
    return panel("timeseries", title, targets, unit, description, w=w)


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"w": 24, "h": 1}}


def quantile(q, metric, by):
    return (
        f"histogram_quantile({q}, sum by (le, {by}) "
        f"(rate({metric}_bucket{{{STORE}}}[{RATE}])))"
    )


PANELS = [
    row("Traffic"),
    timeseries("Requests by store and pool", [
        (f"sum by (store, pool) (rate(sessiongate_requests_total{{{STORE}}}[{RATE}]))", "{{store}} {{pool}}"),
    ], "reqps"),
    timeseries("5xx ratio by store and pool", [
        (f'sum by (store, pool) (rate(sessiongate_requests_total{{{STORE}, status_class="5xx"}}[{RATE}]))'
         f" / sum by (store, pool) (rate(sessiongate_requests_total{{{STORE}}}[{RATE}]))", "{{store}} {{pool}}"),
    ], "percentunit", "Alert SessiongateErrorRatioHigh fires above 5 % with traffic."),
    timeseries("Latency p50 / p99 by store and pool", [
        (quantile(0.5, "sessiongate_request_duration_seconds", "store, pool"), "p50 {{store}} {{pool}}"),
        (quantile(0.99, "sessiongate_request_duration_seconds", "store, pool"), "p99 {{store}} {{pool}}"),
    ], "s"),
    timeseries("Answers by operation and status class", [
        (f"sum by (operation, status_class) (rate(sessiongate_requests_total{{{STORE}}}[{RATE}]))",
         "{{operation}} {{status_class}}"),
    ], "reqps"),
    timeseries("Rejections by reason", [
        (f"sum by (store, reason) (rate(sessiongate_rejections_total{{{STORE}}}[{RATE}]))", "{{store}} {{reason}}"),
    ], "reqps", "Requests the gateway answered itself with a 4xx, by the rule that refused them (docs/rules.md)."),
    timeseries("Client connections", [
        ("sum(sessiongate_client_connections)", "open"),
        (f"sum by (reason) (rate(sessiongate_client_connections_dropped_total[{RATE}]))", "closed by the gateway: {{reason}}"),
    ], "short"),
    row("Servers"),
    timeseries("Upstream errors by kind", [
        (f"sum by (store, pool, kind) (rate(sessiongate_upstream_errors_total{{{STORE}}}[{RATE}]))",
         "{{store}} {{pool}} {{kind}}"),
    ], "reqps"),
    timeseries("Upstream latency p99", [
        (quantile(0.99, "sessiongate_upstream_duration_seconds", "store"), "{{store}}"),
    ], "s"),
    panel("table", "Backend health", [
        (f"max by (store, pool, backend) (sessiongate_backend_up{{{STORE}}})", ""),
    ], "short", "1: passes its health check; 0: out of rotation.", w=24,
        options={"showHeader": True}),
    row("Canary"),
    timeseries("Canary share", [
        (f"max by (store) (sessiongate_canary_share_percent{{{STORE}}})", "{{store}}"),
    ], "percent", "Set by operators (POST /canary/{store}); the guard sets it to 0 on rollback."),
    timeseries("Rollbacks", [
        (f"sum by (store, cause) (increase(sessiongate_canary_rollbacks_total{{{STORE}}}[1h]))", "{{store}} {{cause}}"),
    ], "short"),
    timeseries("Forced-pool attempts", [
        (f"sum by (store, outcome) (rate(sessiongate_canary_forced_total{{{STORE}}}[{RATE}]))", "{{store}} {{outcome}}"),
    ], "reqps", "A header or cookie asking for a pool: honoured from trusted networks only."),
    timeseries("Canary fallbacks to stable", [
        (f"sum by (store) (rate(sessiongate_canary_fallbacks_total{{{STORE}}}[{RATE}]))", "{{store}}"),
    ], "reqps", "Requests for the canary sent to stable because the canary had no healthy server."),
    row("Legacy farms"),
    timeseries("Farm latency p99", [
        (f"histogram_quantile(0.99, sum by (le, farm) (rate(sessiongate_farm_request_duration_seconds_bucket{{{STORE}}}[{RATE}])))",
         "{{farm}}"),
    ], "s"),
    timeseries("Farm requests by outcome", [
        (f"sum by (farm, outcome) (rate(sessiongate_farm_requests_total{{{STORE}}}[{RATE}]))", "{{farm}} {{outcome}}"),
    ], "reqps"),
    timeseries("Partial enumerations", [
        (f"sum by (store) (rate(sessiongate_partial_enumerations_total{{{STORE}}}[{RATE}]))", "{{store}}"),
    ], "reqps", "Listings answered without a farm that did not answer in time."),
    timeseries("Token verifications", [
        (f"sum by (store, outcome) (rate(sessiongate_token_verifications_total{{{STORE}}}[{RATE}]))", "{{store}} {{outcome}}"),
    ], "reqps"),
    row("Active-session safeguard"),
    timeseries("Active-session listings by the store's policy", [
        (f"sum by (store, outcome) (rate(sessiongate_active_session_queries_total{{{STORE}}}[{RATE}]))", "{{store}} {{outcome}}"),
    ], "reqps", "allowed / stripped / refused (docs/safeguard.md)."),
    timeseries("Active-session listings by farm", [
        (f"sum by (farm, action) (rate(sessiongate_farm_active_session_queries_total{{{STORE}}}[{RATE}]))", "{{farm}} {{action}}"),
    ], "reqps", "What each farm was asked: a pre-XenDesktop-7 farm disconnects the sessions it lists."),
    row("Configuration"),
    timeseries("Reloads", [
        ("sum by (outcome) (increase(sessiongate_config_reloads_total[1h]))", "{{outcome}}"),
        ("min(sessiongate_config_last_reload_successful)", "last reload successful (all instances)"),
    ], "short", "SIGHUP, POST /reload or the file watch; a failure leaves the previous configuration serving."),
    panel("table", "Configuration by instance", [
        ("max by (instance) (sessiongate_config_hash)", ""),
    ], "none", "The first 48 bits of the SHA-256 of each instance's file: instances of one fleet should agree.",
        options={"showHeader": True}),
]


def layout(panels):
    """Place panels left to right, wrapping at Grafana's 24 columns; rows take a line."""
    x = y = line = 0
    for i, p in enumerate(panels, start=1):
        p["id"] = i
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if p["type"] == "row" or x + w > 24:
            y, x = y + line, 0
            line = 0
        p["gridPos"].update({"x": x, "y": y})
        x, line = x + w, max(line, h)
        if p["type"] == "row":
            y, x, line = y + h, 0, 0
    return panels


DASHBOARD = {
    "__inputs": [{
        "name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
        "pluginId": "prometheus", "pluginName": "Prometheus",
    }],
    "__requires": [
        {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
        {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        {"type": "panel", "id": "table", "name": "Table", "version": ""},
    ],
    "title": "sessiongate",
    "uid": "sessiongate",
    "description": "The StoreFront Sessions Service gateway: traffic, servers, canary, farms, safeguard, configuration.",
    "tags": ["sessiongate", "citrix"],
    "editable": True,
    "schemaVersion": 39,
    "version": 1,
    "refresh": "30s",
    "time": {"from": "now-6h", "to": "now"},
    "timezone": "",
    "templating": {"list": [{
        "name": "store", "label": "Store", "type": "query", "datasource": DS,
        "query": {"query": "label_values(sessiongate_requests_total, store)", "refId": "store"},
        "definition": "label_values(sessiongate_requests_total, store)",
        "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    }]},
    "annotations": {"list": []},
    "panels": layout(PANELS),
}

if __name__ == "__main__":
    # An argument writes elsewhere (scripts/lint-conf compares that with the committed file).
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("sessiongate.json")
    out.write_text(json.dumps(DASHBOARD, indent=2, ensure_ascii=False) + "\n")
