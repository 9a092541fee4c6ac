"""The router under uvicorn, wired to the real adapters from the environment:

    uvicorn --factory router.asgi:create_app_from_env --host 127.0.0.1 --port 8080

Settings come from TLFIF_* and TLFIF_ROUTER_* (tlfif/settings.py); an unknown or invalid
one stops the start, naming it.
"""

from __future__ import annotations

from starlette.applications import Starlette

from router.app import create_app
from router.logs import configure_logging
from router.wiring import deps_from_env
from tlfif.errors import ConfigError
from tlfif.runtime.metrics import EmfMetrics


def create_app_from_env() -> Starlette:
    deps = deps_from_env(EmfMetrics("router"))
    if deps.settings.trust_gateway_claims:
        # Only a Lambda event carries claims a gateway verified; under uvicorn every
        # request would be refused. Fail at start instead.
        raise ConfigError("TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS is for the Lambda handler only")
    configure_logging()
    return create_app(deps)
