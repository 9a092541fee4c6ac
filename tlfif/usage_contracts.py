"""The usage shapes (ADR 0034): each user's month in S3, and GET /usage's body.

Every figure is an estimate: node-seconds under the attribution rule (tlfif/attribution.py)
priced at a fixed hourly rate, not AWS's bill (GET /cost says what AWS billed).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# "2026-12": the UTC calendar month, as AWS bills it (tlfif/spend.py month_of).
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MONTH_RE = re.compile(MONTH_PATTERN)


class UsageDelta(BaseModel):
    """What one job adds to its user's month (or what an idle tail adds: prompts 0)."""

    model_config = ConfigDict(frozen=True)

    prompts: Annotated[int, Field(ge=0)] = 0
    prompt_tokens: Annotated[int, Field(ge=0)] = 0
    completion_tokens: Annotated[int, Field(ge=0)] = 0
    node_seconds: Annotated[float, Field(ge=0)] = 0.0
    cost_eur: Annotated[float, Field(ge=0)] = 0.0


class UsageRecord(BaseModel):
    """S3 usage/<month>/<sub>.json. `counted` names what was added (job ids, and
    "idle:<job id>" for an idle tail), so a redelivered job is never added twice."""

    prompts: Annotated[int, Field(ge=0)] = 0
    prompt_tokens: Annotated[int, Field(ge=0)] = 0
    completion_tokens: Annotated[int, Field(ge=0)] = 0
    node_seconds: Annotated[float, Field(ge=0)] = 0.0
    cost_eur: Annotated[float, Field(ge=0)] = 0.0
    counted: list[str] = Field(default_factory=list)


class UserUsage(BaseModel):
    """One user's month in GET /usage (figures rounded for people: seconds to 0.1, EUR to
    0.0001)."""

    sub: str
    prompts: int
    prompt_tokens: int
    completion_tokens: int
    node_seconds: float
    cost_eur: float


class UsageView(BaseModel):
    """GET /usage: the month, and the caller's usage (the owner's view: everyone's)."""

    month: str
    estimate: bool = True
    users: list[UserUsage]
