"""The router's real adapters, built from the environment: what uvicorn (router/asgi.py)
and Lambda (router/handler.py) share.

Settings come from TLFIF_* and TLFIF_ROUTER_* (tlfif/settings.py); an unknown or invalid
one stops the start, naming it.
"""

from __future__ import annotations

from router.authentication import Verifier
from router.deps import RouterDeps
from tlfif.aws.api_keys import S3ApiKeyStore
from tlfif.aws.s3 import S3ReplyStore
from tlfif.aws.usage import S3UsageStore
from tlfif.aws.webhook_records import S3WebhookRecords
from tlfif.aws.webhook_secrets import S3WebhookSecrets
from tlfif.errors import ConfigError
from tlfif.ports import Metrics, NodeControl
from tlfif.settings import CommonSettings, RouterSettings


def deps_from_env(metrics: Metrics) -> RouterDeps:
    common = CommonSettings.load()
    settings = RouterSettings.load()
    if not settings.cognito_issuer or not settings.client_ids:
        # Without them every token (or gateway claim) would be refused: fail at start,
        # not on each request.
        raise ConfigError("TLFIF_ROUTER_COGNITO_ISSUER and TLFIF_ROUTER_CLIENT_IDS must be set")

    def ec2_node_control() -> NodeControl:
        # Imported here: only the cold path (no heartbeat in Redis) needs EC2 at all.
        from tlfif.aws.ec2 import Ec2NodeControl

        return Ec2NodeControl(common)

    return RouterDeps(
        settings=settings,
        common=common,
        metrics=metrics,
        # S3ReplyStore imports boto3 on its first call, not when built.
        replies=S3ReplyStore(common.bucket, common.region),
        # API keys under api-keys/ of the same bucket (ADR 0027); boto3 on first use too.
        api_keys=S3ApiKeyStore(common.bucket, common.region),
        # Webhook secrets under webhook-secrets/ of it, SSE-KMS (ADR 0031); boto3 on first use.
        webhook_secrets=S3WebhookSecrets(common.bucket, common.region),
        # A request's webhook under webhooks/ of it, read by the sender (ADR 0031).
        webhook_records=S3WebhookRecords(common.bucket, common.region),
        # Each user's month under usage/ of it, written by the nodes (ADR 0034).
        usage=S3UsageStore(common.bucket, common.region),
        node_control=ec2_node_control,
        # Behind the gateway's authorizer no token is verified here, so python-jose and
        # httpx are not even imported: ~150 ms less of every Lambda cold start.
        verifier=None if settings.trust_gateway_claims else _token_verifier(settings),
    )


def _token_verifier(settings: RouterSettings) -> Verifier:
    from tlfif.auth import TokenVerifier

    return TokenVerifier(
        settings.cognito_issuer,
        settings.resolved_jwks_url,
        settings.client_ids,
        cache_seconds=settings.jwks_cache_seconds,
    )
