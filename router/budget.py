"""POST /budget/resume: the owner lifts the budget hold before the month turns.

Only the deployment's owner may (ADR 0021); anyone else signed in gets 403.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import owner, services
from tlfif.budget import lift_budget_hold
from tlfif.contracts import BudgetResumed
from tlfif.runtime.logs import log_audit

log = logging.getLogger(__name__)


async def resume(request: Request) -> Response:
    claims = await owner(request, may="lift the budget hold")
    found = services(request)
    lifted = await lift_budget_hold(found.registry)
    log_audit(log, "budget_resume", claims.sub, "lifted" if lifted else "no_hold")
    resumed = BudgetResumed(lifted=lifted, hold=await found.registry.hold())
    return JSONResponse(resumed.model_dump(mode="json"))
