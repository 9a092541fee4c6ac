"""The router's AWS Lambda entry point (handler `router.handler.handler`): API Gateway HTTP
API events (payload v2) through Mangum into the same Starlette app uvicorn serves.

Settings come from TLFIF_* and TLFIF_ROUTER_* as under uvicorn. Behind the gateway's JWT
authorizer infra sets TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS=true: the claims the gateway
verified are used and no JWKS is fetched. POWERTOOLS_* variables tune logging and metrics.
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from router.lambda_app import InvocationMetrics, LambdaRouter
from router.wiring import deps_from_env
from tlfif.runtime.lambda_logs import FlatFieldsFormatter
from tlfif.runtime.metrics import NAMESPACE

# The router's own loggers (router.access, router.errors, ...) are children of this one,
# so the access log comes out as Powertools JSON lines with the invocation's context (and a
# log_event line, the audit events', with its fields at the top level).
logger = Logger(service="router", logger_formatter=FlatFieldsFormatter())
metrics = Metrics(namespace=NAMESPACE, service="router")
# Most invocations count nothing (a poll, /status) and Powertools warns on each such
# flush; its documentation suggests exactly this filter.
warnings.filterwarnings("ignore", message="No application metrics to publish")
# Built at import, in the function's init phase: settings are checked before any request.
router = LambdaRouter(deps_from_env(InvocationMetrics(metrics)))


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return router(event, context)
