"""The router's Starlette app as a Lambda function: Mangum turns each API Gateway HTTP API
event (payload v2) into an ASGI request; one event loop and one Redis client serve every
invocation of an execution environment.

router/handler.py wraps this in Powertools; tests drive it directly with their own deps.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from aws_lambda_powertools.metrics import Metrics as PowertoolsMetrics
from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum

from router.app import create_app
from router.deps import RouterDeps, open_services
from tlfif.runtime.warm import WarmLoop


class LambdaRouter:
    def __init__(self, deps: RouterDeps) -> None:
        # Mangum runs every invocation on asyncio's current event loop. redis.asyncio binds
        # its connections to the loop that opened them, so this one loop serves them all.
        self._warm = WarmLoop()
        self._warm.make_current()
        self.app = create_app(deps)
        # lifespan="off": with "auto" or "on", Mangum 0.22 runs the app's lifespan startup
        # *and* shutdown around every single invocation (mangum/adapter.py, Mangum.__call__),
        # which would open and close Redis each time. Instead the services are opened once
        # here, during the function's init, and live as long as the execution environment
        # (Lambda freezes it between invocations; the connections die with it). Opening
        # makes no network call: redis-py connects on the first command.
        self._mangum = Mangum(self.app, lifespan="off")
        self._services = AsyncExitStack()
        self.app.state.services = self._warm.run(
            self._services.enter_async_context(open_services(deps))
        )

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """`context` is the runtime's context object (Mangum and Powertools each type it
        with a Protocol of their own, which do not agree)."""
        # Set again each time: a new loop would strand the Redis connections.
        self._warm.make_current()
        return self._mangum(event, context)

    def close(self) -> None:
        """Close Redis and the loop (tests; Lambda simply ends the environment)."""
        self._warm.run(self._services.aclose())
        self._warm.close()
        asyncio.set_event_loop(None)


class InvocationMetrics:
    """The Metrics port on Lambda: each count joins the invocation's EMF document, which
    `@metrics.log_metrics` prints once when the invocation ends (one line, not one per count).
    """

    def __init__(self, metrics: PowertoolsMetrics) -> None:
        self._metrics = metrics

    def count(self, name: str, value: float = 1.0) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
