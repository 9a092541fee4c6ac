"""POST /keys, GET /keys, DELETE /keys/{id}: the owner's API keys (ADR 0027).

Only the deployment's owner, signed in, manages keys; a key itself never may (a leaked key
must not mint more). The secret is in POST's answer alone: the store keeps its hash.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import owner, services
from router.inputs import json_body
from tlfif.api_key_contracts import KeyCreated, KeyList, KeyRevoked, key_request
from tlfif.errors import KeyStoreError
from tlfif.key_ring import KeyRing
from tlfif.runtime.logs import log_audit

log = logging.getLogger(__name__)


async def create(request: Request) -> Response:
    claims = await owner(request, may="manage API keys")
    wanted = key_request(await json_body(request))
    key, secret = await _key_ring(request).create(wanted.name, claims.sub)
    log_audit(log, "key_create", claims.sub, "created", keyId=key.id)
    created = KeyCreated(**key.view().model_dump(), secret=secret)
    return JSONResponse(created.model_dump(mode="json"), status_code=201)


async def list_keys(request: Request) -> Response:
    await owner(request, may="manage API keys")
    found = await _key_ring(request).list()
    listed = KeyList(keys=[key.view() for key in found])
    return JSONResponse(listed.model_dump(mode="json"))


async def revoke(request: Request) -> Response:
    claims = await owner(request, may="manage API keys")
    key = await _key_ring(request).revoke(request.path_params["id"])
    log_audit(log, "key_revoke", claims.sub, "revoked", keyId=key.id)
    revoked = KeyRevoked(**key.view().model_dump())
    return JSONResponse(revoked.model_dump(mode="json"))


def _key_ring(request: Request) -> KeyRing:
    key_ring = services(request).key_ring
    if key_ring is None:
        raise KeyStoreError("this router was built without an API key store")
    return key_ring
