#!/usr/bin/env python3
"""Parses Prometheus text exposition from stdin with the reference Python client's parser and
prints every sample as JSON lines: {"name": …, "labels": {…}, "value": …}. A malformed
exposition exits non-zero with the parser's error. Used by server/tests/api/metrics.rs."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"name": sample.name, "type": family.type, "labels": sample.labels, "value": sample.value}))
