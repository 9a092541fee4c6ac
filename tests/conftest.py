"""Shared fixtures. Each kind of real server lives in its own module under tests/fixtures/."""

import pytest

pytest_plugins = [
    "tests.fixtures.redis_servers",
    "tests.fixtures.moto_server",
    "tests.fixtures.engine",
    "tests.fixtures.router_app",
    "tests.fixtures.lambdas",
    "tests.fixtures.browser",
    "tests.fixtures.webhooks",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
