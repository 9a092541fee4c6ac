"""tlfif/key_ring.py on a real redis-server, with the store's double: the cache spares the
store, a bad key is remembered briefly, a revoke stops a key at once, last-used is written
once a minute, and keys outlive a FLUSHALL (the store is the record)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.api_key_store_double import ApiKeyStoreDouble
from tests.fixtures.redis_servers import RedisServer
from tlfif import keys
from tlfif.api_key_contracts import KEY_CLIENT_ID, KeyClaims, new_secret, secret_hash
from tlfif.errors import KeyExists, KeyNotFound, KeyStoreError, TokenInvalid
from tlfif.key_ring import MISSING, USED_EVERY_SECONDS, KeyRing
from tlfif.redis_conn import RedisClient, connect

pytestmark = pytest.mark.anyio
SUB = "86bf2021-a197-5d3a-ac5e-d054b2c4f17e"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[RedisClient]:
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def store() -> ApiKeyStoreDouble:
    return ApiKeyStoreDouble()


@pytest.fixture
def ring(redis: RedisClient, store: ApiKeyStoreDouble) -> KeyRing:
    return KeyRing(redis, store, cache_seconds=300, miss_seconds=30)


async def test_a_key_acts_as_its_owner_and_the_cache_spares_the_store(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient
) -> None:
    key, secret = await ring.create("laptop", SUB)
    assert secret.startswith("tlfif-sk-") and len(secret) == 52
    assert key.hash == secret_hash(secret) and secret not in str(store.records)
    reads = store.reads
    for _ in range(5):
        claims = await ring.claims_for(secret)
    assert isinstance(claims, KeyClaims)
    assert claims.sub == SUB and claims.key_id == key.id and claims.client_id == KEY_CLIENT_ID
    assert claims.groups == ()  # a key never carries the owner group
    assert store.reads == reads + 1  # one miss filled the cache; the rest came from Redis
    assert 0 < await redis.ttl(keys.api_key(key.hash)) <= 300


async def test_a_bad_key_is_refused_and_remembered_briefly(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient
) -> None:
    with pytest.raises(TokenInvalid, match="malformed"):
        await ring.claims_for("tlfif-sk-short")
    assert store.reads == 0  # the shape alone refused it
    stranger = new_secret()
    for _ in range(10):
        with pytest.raises(TokenInvalid, match="unknown or revoked"):
            await ring.claims_for(stranger)
    assert store.reads == 1
    assert 0 < await redis.ttl(keys.api_key(secret_hash(stranger))) <= 30


async def test_a_revoke_stops_a_cached_key_at_once(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient
) -> None:
    key, secret = await ring.create("ci", SUB)
    await ring.claims_for(secret)  # now cached
    assert (await ring.revoke("ci")).id == key.id
    with pytest.raises(TokenInvalid):
        await ring.claims_for(secret)
    assert await redis.get(keys.api_key(key.hash)) == MISSING
    assert store.records == {}
    with pytest.raises(KeyNotFound):
        await ring.revoke(key.id)


async def test_revoke_takes_an_id_or_a_name_and_names_are_unique(ring: KeyRing) -> None:
    first, _ = await ring.create("one", SUB)
    await ring.create("two", SUB)
    with pytest.raises(KeyExists):
        await ring.create("one", SUB)
    assert (await ring.revoke(first.id)).name == "one"
    assert (await ring.revoke("two")).name == "two"
    assert await ring.list() == []


async def test_last_used_is_written_at_most_once_a_minute(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient
) -> None:
    key, secret = await ring.create("laptop", SUB)
    for _ in range(5):
        await ring.claims_for(secret)
    await ring.settle()
    assert store.touches == 1 and key.hash in store.used
    assert 0 < await redis.ttl(keys.api_key_used(key.hash)) <= USED_EVERY_SECONDS
    await redis.delete(keys.api_key_used(key.hash))  # as if the minute had passed
    await ring.claims_for(secret)
    await ring.settle()
    assert store.touches == 2
    (listed,) = await ring.list()
    assert listed.last_used_ms == store.used[key.hash]


async def test_keys_outlive_a_flushall(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient
) -> None:
    key, secret = await ring.create("laptop", SUB)
    await ring.claims_for(secret)
    await redis.flushall()
    assert (await ring.claims_for(secret)).key_id == key.id


async def test_a_store_that_fails_is_a_store_error_not_a_refusal(
    ring: KeyRing, store: ApiKeyStoreDouble
) -> None:
    store.failing = True
    with pytest.raises(KeyStoreError):
        await ring.claims_for(new_secret())


async def test_a_failing_last_used_write_does_not_fail_the_request(
    ring: KeyRing, store: ApiKeyStoreDouble, redis: RedisClient, caplog: pytest.LogCaptureFixture
) -> None:
    key, secret = await ring.create("laptop", SUB)
    await ring.claims_for(secret)  # cached
    await ring.settle()
    await redis.delete(keys.api_key_used(key.hash))  # a write is due again
    store.failing = True
    assert (await ring.claims_for(secret)).sub == SUB
    await ring.settle()
    assert "last-used not written" in caplog.text
