"""Metrics as CloudWatch EMF lines on stdout (aws-lambda-powertools), namespace TLFIF.

On Lambda, CloudWatch Logs turns each line into a metric; on the node the CloudWatch agent
ships them. No put_metric_data: an API call per count would sit on the request path.
"""

from __future__ import annotations

import sys

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "TLFIF"


class EmfMetrics:
    """Each count is its own EMF line, flushed at once.

    single_metric rather than a Metrics object: the watcher is a long-running daemon with no
    handler whose end would flush a batch, and a count must not wait in memory for one.
    """

    def __init__(self, service: str, namespace: str = NAMESPACE) -> None:
        self._service = service
        self._namespace = namespace

    def count(self, name: str, value: float = 1.0) -> None:
        self.record(name, value, MetricUnit.Count)

    def record(self, name: str, value: float, unit: MetricUnit = MetricUnit.NoUnit) -> None:
        """Any value, such as a spend in EUR (CloudWatch has no currency unit: None)."""
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=self._namespace,
            default_dimensions={"service": self._service},
        ):
            pass
        # Under supervisord or a pipe stdout is block-buffered; the agent must see the
        # line now, not when a buffer fills or the process exits.
        sys.stdout.flush()
