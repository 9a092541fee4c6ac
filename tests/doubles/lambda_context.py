"""A Lambda context object as the runtime passes it, for calling handlers in tests."""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT = "123456789012"


@dataclass(frozen=True)
class LambdaContextDouble:
    function_name: str = "tl-fif-test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "5b1f0c0a-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/tl-fif-test"
    log_stream_name: str = "2025/11/23/[$LATEST]0123456789abcdef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30000
