"""The router under uvicorn, wired to the real adapters from the environment:

    uvicorn --factory router.asgi:create_app_from_env --host 127.0.0.1 --port 8080

Settings come from TLFIF_* and TLFIF_ROUTER_* (tlfif/settings.py); an unknown or invalid
one stops the start, naming it.
"""

from __future__ import annotations

from starlette.applications import Starlette

from router.app import create_app
from router.deps import RouterDeps
from router.logs import configure_logging
from tlfif.auth import TokenVerifier
from tlfif.aws.s3 import S3ReplyStore
from tlfif.errors import ConfigError
from tlfif.metrics import EmfMetrics
from tlfif.ports import NodeControl
from tlfif.settings import CommonSettings, RouterSettings


def create_app_from_env() -> Starlette:
    configure_logging()
    common = CommonSettings.load()
    settings = RouterSettings.load()
    if not settings.cognito_issuer or not settings.client_ids:
        # Without them every token would be refused: fail at start, not on each request.
        raise ConfigError("TLFIF_ROUTER_COGNITO_ISSUER and TLFIF_ROUTER_CLIENT_IDS must be set")

    def ec2_node_control() -> NodeControl:
        # Imported here: only the cold path (no heartbeat in Redis) needs EC2 at all.
        from tlfif.aws.ec2 import Ec2NodeControl

        return Ec2NodeControl(common)

    return create_app(
        RouterDeps(
            settings=settings,
            common=common,
            verifier=TokenVerifier(
                settings.cognito_issuer,
                settings.resolved_jwks_url,
                settings.client_ids,
                cache_seconds=settings.jwks_cache_seconds,
            ),
            metrics=EmfMetrics("router"),
            # S3ReplyStore imports boto3 on its first call, not when built.
            replies=S3ReplyStore(common.bucket, common.region),
            node_control=ec2_node_control,
        )
    )
