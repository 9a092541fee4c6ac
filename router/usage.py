"""GET /usage: this month's prompts, tokens, node-seconds and estimated cost (ADR 0034).

A plain user sees their own month; the owner sees every user's, and so does an API key,
which speaks for the owner who made it (ADR 0027's addendum): a read that spends nothing,
for a pipeline's report. `?month=YYYY-MM`
reads an earlier month (the records are kept about 13 months).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, caller_is_owner, services
from tlfif.contracts import now_ms
from tlfif.errors import UsageStoreError
from tlfif.usage import parse_month, usage_view
from tlfif.usage_contracts import UsageRecord


async def usage(request: Request) -> Response:
    claims = await caller(request)
    month = parse_month(request.query_params.get("month"), now_ms())
    store = services(request).usage
    if store is None:
        raise UsageStoreError("this router was built without a usage store")
    if caller_is_owner(request, claims):
        records = await store.list_month(month)
    else:
        record = await store.get(month, claims.sub)
        records = {claims.sub: record or UsageRecord()}
    return JSONResponse(usage_view(month, records).model_dump(mode="json"))
