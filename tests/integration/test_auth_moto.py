"""TokenVerifier against tokens and a JWKS that moto's Cognito really issues and serves."""

from __future__ import annotations

import pytest

from tests.fixtures.moto_server import CognitoPool
from tlfif.auth import TokenVerifier
from tlfif.errors import TokenInvalid


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def verifier_for(pool: CognitoPool) -> TokenVerifier:
    return TokenVerifier(pool.issuer, pool.jwks_url, [pool.client_id])


@pytest.mark.anyio
async def test_moto_access_token_verifies(cognito_pool: CognitoPool) -> None:
    claims = await verifier_for(cognito_pool).verify(f"Bearer {cognito_pool.access_token()}")
    assert claims.client_id == cognito_pool.client_id
    assert claims.username == cognito_pool.username
    assert claims.token_use == "access"
    assert claims.sub


@pytest.mark.anyio
async def test_moto_id_token_is_rejected(cognito_pool: CognitoPool) -> None:
    with pytest.raises(TokenInvalid, match="token_use is 'id'"):
        await verifier_for(cognito_pool).verify(f"Bearer {cognito_pool.id_token()}")


@pytest.mark.anyio
async def test_token_of_another_app_client_is_rejected(cognito_pool: CognitoPool) -> None:
    verifier = TokenVerifier(cognito_pool.issuer, cognito_pool.jwks_url, ["another-client"])
    with pytest.raises(TokenInvalid, match="app client"):
        await verifier.verify(f"Bearer {cognito_pool.access_token()}")
