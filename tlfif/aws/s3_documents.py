"""Small JSON documents in S3, each a pydantic model, changed by conditional writes.

A change reads the document with its ETag, applies itself, and writes If-Match on that ETag
(If-None-Match: * when there was none); a write that lost a race reads and applies again.
So two changes at once never undo each other. The webhook secrets (ADR 0031) and the
usage records (ADR 0034) are kept so. Synchronous: the adapters run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from tlfif.errors import TlfifError

Document = TypeVar("Document", bound=BaseModel)

# What S3 answers a conditional PutObject that lost: 412 when the object changed (or, for
# If-None-Match, exists), 409 while another conditional write of it is in flight, 404 for
# If-Match on an object deleted meanwhile.
LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


class LostRace(Exception):
    """A conditional write found the object changed since it was read."""


@dataclass(frozen=True)
class S3Documents(Generic[Document]):
    """One kind of document in one bucket. Every failure is raised as `error`, naming the
    key (for the logs; callers see the error's public message)."""

    client: Callable[[], Any]
    bucket: str
    model: type[Document]
    error: type[TlfifError]
    kind: str  # "usage record": what an unreadable object is said not to be
    put_args: Mapping[str, str] = field(default_factory=dict)  # e.g. server-side encryption

    def read(self, key: str) -> tuple[Document, str] | None:
        """The document and its ETag, or None when there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client().get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise self.error(f"S3 GetObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise self.error(f"S3 GetObject of {key} failed: {exc}") from exc
        try:
            return self.model.model_validate_json(body), str(response["ETag"])
        except ValidationError as exc:
            # The detail stays out: pydantic would quote the input (a secret, say).
            raise self.error(f"S3 object {key} is not a valid {self.kind}") from exc

    def put(self, key: str, document: Document, condition: Mapping[str, str]) -> None:
        """Write `document`; LostRace when `condition` (IfMatch / IfNoneMatch) fails."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=document.model_dump_json().encode("utf-8"),
                ContentType="application/json",
                **self.put_args,
                **condition,
            )
        except ClientError as exc:
            if condition and error_code(exc) in LOST_RACE:
                raise LostRace from exc
            raise self.error(f"S3 PutObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise self.error(f"S3 PutObject of {key} failed: {exc}") from exc

    def update(
        self, key: str, change: Callable[[Document | None], Document], attempts: int
    ) -> Document:
        """`change` applied to the document as it is now (None: there is none), written
        unless it changed nothing; read and applied again after each lost race."""
        for _ in range(attempts):
            found = self.read(key)
            current, etag = found if found is not None else (None, None)
            wanted = change(current)
            if wanted == current:
                return wanted
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                self.put(key, wanted, condition)
            except LostRace:
                continue
            return wanted
        raise self.error(f"S3 PutObject of {key} lost {attempts} races in a row")


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
