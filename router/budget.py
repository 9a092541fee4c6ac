"""POST /budget/resume: the owner lifts the budget hold before the month turns.

Any authenticated user may: the pool is personal (one owner, self-sign-up off), so being
signed in is being the owner. A pool shared with others would check a Cognito group here.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, services
from tlfif.budget import lift_budget_hold
from tlfif.contracts import BudgetResumed

log = logging.getLogger(__name__)


async def resume(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    lifted = await lift_budget_hold(found.registry)
    if lifted:
        log.warning("budget hold lifted", extra={"sub": claims.sub})
    resumed = BudgetResumed(lifted=lifted, hold=await found.registry.hold())
    return JSONResponse(resumed.model_dump(mode="json"))
