"""GET /v1/models: the one model the node serves (RouterSettings.served_model, which
matches the watcher's TLFIF_WATCHER_ENGINE_MODEL)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, services
from tlfif.openai_contracts import ModelCard, ModelList


async def models(request: Request) -> Response:
    await caller(request)
    served = services(request).settings.served_model
    # `created` as vLLM's own /v1/models gives it: the time of the answer.
    listing = ModelList(data=[ModelCard(id=served, created=int(time.time()))])
    return JSONResponse(listing.model_dump(mode="json"))
