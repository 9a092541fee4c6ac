"""API keys on the warm path (ADR 0027): which sub a key acts as, from a Redis cache of
hash -> owner refilled from the durable store on a miss; create, list and revoke.

The store (S3) is the record, so keys outlive a Redis restart or FLUSHALL; Redis only
spares it a read per request. A key the store does not have is remembered briefly ("-"),
so one bad key sent in a loop costs one store read a while. A revoke writes "-" over the
cached owner at once, for as long as a cached owner lives: a look-up racing the revoke
refills the cache with SET NX, which cannot undo it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tlfif import keys
from tlfif.api_key_contracts import (
    KEY_CLIENT_ID,
    ApiKey,
    KeyClaims,
    looks_like_key,
    new_key_id,
    new_secret,
    secret_hash,
)
from tlfif.errors import KeyExists, KeyNotFound, TlfifError, TokenInvalid
from tlfif.ports import ApiKeyStore
from tlfif.redis_conn import RedisClient, queue_errors

log = logging.getLogger(__name__)

MISSING = "-"
# last-used is written at most once a minute per key: one S3 PUT, not one per request.
USED_EVERY_SECONDS = 60
# A key's claims need a lifetime; it lasts until revoked, so this is only their shape.
CLAIMS_SECONDS = 3600


@dataclass(frozen=True)
class KeyOwner:
    id: str
    sub: str


class KeyRing:
    def __init__(
        self,
        redis: RedisClient,
        store: ApiKeyStore,
        *,
        cache_seconds: int = 300,
        miss_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._store = store
        self._cache_seconds = cache_seconds
        self._miss_seconds = miss_seconds
        self._clock = clock
        # last-used writes in flight, held so the loop does not drop them (asyncio keeps
        # only weak references to tasks).
        self._touches: set[asyncio.Task[None]] = set()

    async def claims_for(self, secret: str) -> KeyClaims:
        """The claims a key acts with; TokenInvalid (401) for a key that is not, or no
        longer, one. Raises QueueUnavailable or KeyStoreError when it cannot tell."""
        if not looks_like_key(secret):
            raise TokenInvalid("the API key is malformed")
        key_hash = secret_hash(secret)
        owner = await self._owner(key_hash)
        if owner is None:
            raise TokenInvalid("the API key is unknown or revoked")
        self._touch_soon(key_hash)
        now = int(self._clock())
        return KeyClaims(
            sub=owner.sub,
            client_id=KEY_CLIENT_ID,
            token_use="access",
            exp=now + CLAIMS_SECONDS,
            iat=now,
            key_id=owner.id,
        )

    async def create(self, name: str, sub: str) -> tuple[ApiKey, str]:
        """A new key for `sub` and its secret, which nothing keeps: shown once. Raises
        KeyExists when a live key has the name."""
        if any(key.name == name for key in await self._store.list_keys()):
            raise KeyExists(
                f"a key named {name!r} exists; revoke it or pick another name", field="name"
            )
        secret = new_secret()
        key = ApiKey(
            hash=secret_hash(secret),
            id=new_key_id(),
            name=name,
            sub=sub,
            created_ms=int(self._clock() * 1000),
        )
        await self._store.put_key(key)
        return key, secret

    async def list(self) -> list[ApiKey]:
        return await self._store.list_keys()

    async def revoke(self, id_or_name: str) -> ApiKey:
        """Delete the key with this id (or, failing that, this name) and stop it at once."""
        found = await self._store.list_keys()
        key = next((k for k in found if k.id == id_or_name), None) or next(
            (k for k in found if k.name == id_or_name), None
        )
        if key is None:
            raise KeyNotFound(f"no API key has the id or name {id_or_name!r}")
        await self._store.delete_key(key.hash)
        with queue_errors():
            await self._redis.set(keys.api_key(key.hash), MISSING, ex=self._cache_seconds)
        return key

    async def settle(self) -> None:
        """Wait for the last-used writes in flight (tests; a shutting-down process)."""
        if self._touches:
            await asyncio.gather(*self._touches, return_exceptions=True)

    async def _owner(self, key_hash: str) -> KeyOwner | None:
        cache = keys.api_key(key_hash)
        with queue_errors():
            cached = await self._redis.get(cache)
        if cached == MISSING:
            return None
        if cached is not None:
            value = json.loads(cached)
            return KeyOwner(id=value["id"], sub=value["sub"])
        key = await self._store.get_key(key_hash)
        owner = None if key is None else KeyOwner(id=key.id, sub=key.sub)
        value = MISSING if owner is None else json.dumps({"id": owner.id, "sub": owner.sub})
        seconds = self._miss_seconds if owner is None else self._cache_seconds
        with queue_errors():
            await self._redis.set(cache, value, ex=seconds, nx=True)
        return owner

    def _touch_soon(self, key_hash: str) -> None:
        """Record the use off the request's path: the gate and the PUT run in a task. On
        Lambda a task left over when the response is sent runs on at the next invocation."""
        task = asyncio.get_running_loop().create_task(self._touch(key_hash))
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def _touch(self, key_hash: str) -> None:
        try:
            with queue_errors():
                due = await self._redis.set(
                    keys.api_key_used(key_hash), "1", ex=USED_EVERY_SECONDS, nx=True
                )
            if due:
                await self._store.touch_key(key_hash, int(self._clock() * 1000))
        except TlfifError as exc:
            # A missed last-used is not worth failing (or delaying) a request for.
            log.warning("API key last-used not written", extra={"detail": exc.message})
