"""The router as a Starlette app: routes, error mapping and request context, nothing else.

`create_app(deps)` is the one way to build it: uvicorn (router/asgi.py), the Lambda
handler and the tests all pass their own RouterDeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from router import (
    api_keys,
    budget,
    cancel,
    chat_page,
    cost,
    events,
    health,
    infer,
    node,
    result,
    usage,
    wake,
    webhook_secret,
)
from router.cors import Cors
from router.deps import RouterDeps, open_services
from router.errors import on_http_error, on_tlfif_error
from router.key_path import KeyPath
from router.middleware import LastResort, RequestContext
from router.v1 import completions, models
from tlfif.errors import TlfifError

ROUTES = [
    Route("/ping", health.ping, methods=["GET"]),
    Route("/queue-health", health.queue_health, methods=["GET"]),
    Route("/infer", infer.infer, methods=["POST"]),
    Route("/result/{id}", result.result, methods=["GET"]),
    Route("/result/{id}/events", events.events, methods=["GET"]),
    Route("/cancel/{id}", cancel.cancel, methods=["POST"]),
    Route("/stop", node.stop, methods=["POST"]),
    Route("/wake", wake.wake, methods=["POST"]),
    Route("/status", node.status, methods=["GET"]),
    Route("/cost", cost.cost, methods=["GET"]),
    Route("/usage", usage.usage, methods=["GET"]),
    Route("/budget/resume", budget.resume, methods=["POST"]),
    # The owner's API keys (ADR 0027); every route above also answers under /api-key/.
    Route("/keys", api_keys.create, methods=["POST"]),
    Route("/keys", api_keys.list_keys, methods=["GET"]),
    Route("/keys/{id}", api_keys.revoke, methods=["DELETE"]),
    # Each user's own webhook secret and setting (ADR 0031); never with an API key.
    Route("/webhook-secret", webhook_secret.show, methods=["GET"]),
    Route("/webhook-secret/rotate", webhook_secret.rotate, methods=["POST"]),
    Route("/webhook-settings", webhook_secret.change_settings, methods=["PUT"]),
    # The OpenAI-compatible surface (ADR 0024): errors there are in OpenAI's shape.
    Route("/v1/chat/completions", completions.chat_completions, methods=["POST"]),
    Route("/v1/completions", completions.completions, methods=["POST"]),
    Route("/v1/models", models.models, methods=["GET"]),
    # The chat page (ADR 0026): loading it takes no token; it calls /v1 with the user's.
    Route("/", chat_page.page, methods=["GET"]),
    Route("/static/{name}", chat_page.asset, methods=["GET"]),
]


def create_app(deps: RouterDeps) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(deps) as services:
            app.state.services = services
            yield

    return Starlette(
        routes=ROUTES,
        # Outermost first: /api-key/ is stripped before anything reads the path; every
        # response gets its request id and access line, CORS headers included on the
        # last-resort 503.
        middleware=[
            Middleware(KeyPath),
            Middleware(RequestContext),
            Middleware(Cors),
            Middleware(LastResort),
        ],
        exception_handlers={TlfifError: on_tlfif_error, HTTPException: on_http_error},
        lifespan=lifespan,
    )
