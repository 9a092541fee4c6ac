"""`tlfif` end to end in-process: main([...]) against RouterApiDouble, logging in to moto.

Cognito is moto's real InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH); the router is
the double behind httpx.MockTransport. Every run asserts that no traceback was printed.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from tests.doubles.router_api_double import RouterApiDouble, error_response, gateway_unauthorized
from tests.fixtures.moto_server import REGION, CognitoPool
from tlfif.client.config import StackConfig, save_profile
from tlfif.client.tokens import TokenFile
from tlfif.contracts import NodeInfo, Reply
from tlfif_cli import main
from tlfif_cli.errors import ExitCode

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


Tlfif = Callable[..., Run]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def router_api() -> RouterApiDouble:
    return RouterApiDouble()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config directory of the test's own, and no TLFIF_CLI_* of the developer's."""
    for name in [n for n in os.environ if n.startswith("TLFIF_CLI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "tlfif" / "config.json"))
    # The double answers each long poll at once; the client's own pause would only slow us.
    monkeypatch.setenv("TLFIF_CLI_MIN_POLL_INTERVAL_SECONDS", "0")


@pytest.fixture
def profile(cli_env: None, cognito_pool: CognitoPool, aws: str) -> StackConfig:
    """The local profile `make up` writes, pointing at moto's Cognito and the double."""
    config = cognito_pool.demo_profile("http://router.test", aws)
    save_profile(config)
    return config


@pytest.fixture
def offline_profile(cli_env: None) -> StackConfig:
    """For runs that must fail before any login: nobody listens at Cognito's address."""
    config = StackConfig(
        api_url="http://router.test",
        user_pool_id="eu-central-1_OFFLINE",
        client_id="offline",
        cognito_endpoint_url=f"http://127.0.0.1:{free_port()}",
        demo_username="demo",
        demo_password="never-used",
    )
    save_profile(config)
    return config


@pytest.fixture
def run_cli(
    router_api: RouterApiDouble,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Tlfif:
    def run(
        *argv: str,
        stdin: str | None = None,
        direct: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> Run:
        """`direct` uses the network (for "nothing listens"); `transport` replaces the double."""
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = main(list(argv), transport=None if direct else transport or router_api.transport())
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def tlfif(run_cli: Tlfif, profile: StackConfig) -> Tlfif:
    return run_cli


@pytest.fixture
def tlfif_offline(run_cli: Tlfif, offline_profile: StackConfig) -> Tlfif:
    return run_cli


# login


def test_login_keeps_tokens_owner_only_and_never_prints_them(
    tlfif: Tlfif, profile: StackConfig
) -> None:
    run = tlfif("login")
    assert run.code == ExitCode.OK
    assert "logged in as demo" in run.err
    store = TokenFile()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    tokens = store.load("local")
    assert tokens is not None
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret not in run.out + run.err
        # Not even a recognisable piece of one.
        assert secret[:20] not in run.out + run.err


def test_login_with_a_username_and_the_password_on_stdin(
    tlfif: Tlfif, cognito_pool: CognitoPool
) -> None:
    run = tlfif(
        "login", "--username", "demo", "--password-stdin", stdin=cognito_pool.password + "\n"
    )
    assert run.code == ExitCode.OK
    assert TokenFile().load("local") is not None


def test_login_with_a_bad_password_says_so_and_stores_nothing(tlfif: Tlfif) -> None:
    run = tlfif("login", "--username", "demo", "--password-stdin", stdin="wrong-password\n")
    assert run.code == ExitCode.AUTH
    assert run.err.strip() == (
        "tlfif: login failed: incorrect username or password; try `tlfif login` again"
    )
    assert TokenFile().load("local") is None


def test_login_without_a_terminal_asks_for_password_stdin(tlfif: Tlfif) -> None:
    run = tlfif("login", "--username", "alice")
    assert run.code == ExitCode.USAGE
    assert "--password-stdin" in run.err


def test_login_without_any_stack_says_make_up(
    tlfif_offline: Tlfif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "nowhere" / "config.json"))
    run = tlfif_offline("login")
    assert run.code == ExitCode.UNREACHABLE
    assert "run `make up`" in run.err
    assert len(run.err.strip().splitlines()) == 1


# infer


def test_infer_shows_a_cold_start_then_the_reply(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    run = tlfif("infer", "Why is the sky blue?", "--idle", "2", "--max-tokens", "32")
    assert run.code == ExitCode.OK
    assert run.out == router_api.reply_text + "\n"
    phases = [line.split("] ", 1)[1] for line in run.err.splitlines() if line.startswith("[")]
    assert phases == [
        "starting the node",
        "the node is booting",
        "the node is loading the model",
        "generating",
    ]
    assert "latency 1500 ms" in run.err
    assert "7 prompt + 12 completion tokens" in run.err
    (job,) = router_api.jobs.values()
    assert job.body == {"prompt": "Why is the sky blue?", "idle": 2, "max_tokens": 32}
    (submit,) = router_api.sent("POST /infer")
    assert submit.headers["Idempotency-Key"]
    # Long polls, not a tight loop: every poll asks the router to wait.
    assert {r.url.params["wait"] for r in router_api.sent("GET /result")} == {"3"}


def test_infer_logs_the_demo_user_in_by_itself(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    assert TokenFile().load("local") is None
    assert tlfif("infer", "hi").code == ExitCode.OK
    stored = TokenFile().load("local")
    assert stored is not None
    assert router_api.bearer_tokens("POST /infer") == [stored.access_token]


def test_infer_json_prints_the_reply_json_only(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    run = tlfif("infer", "hi", "--json")
    assert run.code == ExitCode.OK
    reply = Reply.model_validate_json(run.out)
    assert reply.text == router_api.reply_text
    assert run.out.count("\n") == 1


def test_infer_no_wait_prints_the_id_only(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    run = tlfif("infer", "hi", "--no-wait")
    assert run.code == ExitCode.OK
    assert run.out == f"{next(iter(router_api.jobs))}\n"
    assert router_api.sent("GET /result") == []


@pytest.mark.parametrize("argv", [("infer",), ("infer", "-")])
def test_infer_reads_the_prompt_from_stdin(
    tlfif: Tlfif, router_api: RouterApiDouble, argv: tuple[str, ...]
) -> None:
    run = tlfif(*argv, stdin="a prompt\nover two lines\n")
    assert run.code == ExitCode.OK
    (job,) = router_api.jobs.values()
    assert job.body["prompt"] == "a prompt\nover two lines"


def test_infer_refreshes_once_on_a_401_and_retries(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    assert tlfif("login").code == ExitCode.OK
    before = TokenFile().load("local")
    assert before is not None
    router_api.refuse_first_token = True
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.OK
    first, second = router_api.sent("POST /infer")
    assert first.headers["Authorization"] == f"Bearer {before.access_token}"
    assert second.headers["Authorization"] != first.headers["Authorization"]
    assert second.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    after = TokenFile().load("local")
    assert after is not None
    assert after.refresh_token == before.refresh_token  # refreshed, not logged in again
    assert len(router_api.jobs) == 1


def test_a_token_near_expiry_is_refreshed_before_it_is_sent(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    assert tlfif("login").code == ExitCode.OK
    store = TokenFile()
    tokens = store.load("local")
    assert tokens is not None
    store.save("local", tokens.model_copy(update={"expires_at": time.time() + 30}))
    assert tlfif("status").code == ExitCode.OK
    assert router_api.bearer_tokens("GET /status") != [tokens.access_token]
    assert len(router_api.sent("GET /status")) == 1  # no 401 round trip was needed


def test_the_api_refusing_a_fresh_token_too_says_log_in(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    router_api.canned["POST /infer"] = gateway_unauthorized()
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.AUTH
    assert (
        run.err.strip() == "tlfif: the API refused your session (Unauthorized): run `tlfif login`"
    )
    assert len(router_api.sent("POST /infer")) == 2


def test_an_expired_session_of_a_real_user_says_log_in_again(
    tlfif: Tlfif, router_api: RouterApiDouble, cognito_pool: CognitoPool
) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    cognito.admin_create_user(
        UserPoolId=cognito_pool.pool_id, Username="alice", MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=cognito_pool.pool_id, Username="alice", Password="Alice-pw-123!", Permanent=True
    )
    assert (
        tlfif("login", "--username", "alice", "--password-stdin", stdin="Alice-pw-123!").code == 0
    )
    cognito.admin_user_global_sign_out(UserPoolId=cognito_pool.pool_id, Username="alice")
    router_api.refuse_first_token = True
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.AUTH
    assert "your session expired" in run.err
    assert "run `tlfif login` again" in run.err


def test_no_stack_listening_is_one_line(
    tlfif: Tlfif, profile: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    save_profile(profile.model_copy(update={"api_url": url}))
    run = tlfif("infer", "hi", direct=True)
    assert run.code == ExitCode.UNREACHABLE
    assert run.err == f"tlfif: cannot reach the TL-FIF API at {url}: is `make up` running?\n"


def test_no_cognito_listening_is_one_line(tlfif: Tlfif, profile: StackConfig) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    save_profile(profile.model_copy(update={"cognito_endpoint_url": url}))
    run = tlfif("status")
    assert run.code == ExitCode.UNREACHABLE
    assert run.err == f"tlfif: cannot reach Cognito at {url}: is `make up` running?\n"


def test_throttled_says_when_to_retry(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    router_api.canned["POST /infer"] = error_response(
        429, "throttled", "too many requests", retry_after=7
    )
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.REFUSED
    assert run.err.strip() == "tlfif: throttled: too many requests; retry after 7 s"


def test_budget_hold_says_nothing_was_queued(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    router_api.canned["POST /infer"] = error_response(
        503, "budget_reached", "the monthly budget is reached", retry_after=3600
    )
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.REFUSED
    assert run.err.startswith("tlfif: budget hold: the monthly budget is reached")
    assert "nothing was queued" in run.err


def test_a_node_that_refuses_to_start_is_named(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    router_api.canned["POST /infer"] = error_response(
        503, "node_start_refused", "InsufficientInstanceCapacity", retry_after=30
    )
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.REFUSED
    assert "node refused to start" in run.err
    assert "retry after 30 s" in run.err


def test_a_start_error_in_the_202_is_shown_and_waiting_goes_on(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    router_api.node_error = "InsufficientInstanceCapacity"
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.OK
    assert "the node did not start yet (InsufficientInstanceCapacity)" in run.err
    assert run.out == router_api.reply_text + "\n"


@pytest.mark.parametrize("prompt", ["", "   \n"])
def test_an_empty_prompt_is_refused_before_sending(
    tlfif_offline: Tlfif, router_api: RouterApiDouble, prompt: str
) -> None:
    run = tlfif_offline("infer", prompt)
    assert run.code == ExitCode.USAGE
    # InferRequest's own words, as the router's 400 says them.
    assert run.err.strip() == "tlfif: invalid input: prompt: 'prompt' is empty"
    assert router_api.requests == []


@pytest.mark.parametrize(("prompt", "size"), [("x" * 6145, 6145), ("é" * 3073, 6146)])
def test_a_prompt_over_6144_bytes_is_refused_before_sending(
    tlfif_offline: Tlfif, router_api: RouterApiDouble, prompt: str, size: int
) -> None:
    run = tlfif_offline("infer", prompt)
    assert run.code == ExitCode.USAGE
    assert run.err.strip() == (
        f"tlfif: invalid input: prompt: content is {size} UTF-8 bytes; at most 6144 are accepted"
    )
    assert router_api.requests == []


def test_a_prompt_of_exactly_6144_bytes_is_sent(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    assert tlfif("infer", "x" * 6144, "--no-wait").code == ExitCode.OK
    assert len(router_api.jobs) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("infer", "hi", "--idle", "31"), "argument --idle: 31 is not between 1 and 30"),
        (("infer", "hi", "--idle", "soon"), "argument --idle: 'soon' is not a number"),
        (("infer", "hi", "--max-tokens", "0"), "argument --max-tokens: 0 is not between"),
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_are_one_line(
    tlfif_offline: Tlfif, argv: tuple[str, ...], message: str
) -> None:
    run = tlfif_offline(*argv)
    assert run.code == ExitCode.USAGE
    assert message in run.err
    assert len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("status", "code", "error", "hint"),
    [
        ("error", None, "engine failed twice", "the engine failed"),
        ("expired", "expired", "job expired", "send it again"),
        ("error", "engine_crashed", "the engine died 2 times", "change the prompt"),
        ("error", "engine_failed", "the engine did not come back", "start the node afresh"),
    ],
)
def test_a_reply_that_is_not_done_fails(
    tlfif: Tlfif,
    router_api: RouterApiDouble,
    status: str,
    code: str | None,
    error: str,
    hint: str,
) -> None:
    router_api.reply_status = status  # type: ignore[assignment]
    router_api.reply_error = error
    router_api.reply_error_code = code  # type: ignore[assignment]
    run = tlfif("infer", "hi")
    assert run.code == ExitCode.JOB_FAILED
    assert f"{status}: {error}" in run.err
    assert hint in run.err
    assert run.out == ""


def test_a_failed_reply_with_json_is_still_json(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    router_api.reply_status = "expired"
    run = tlfif("infer", "hi", "--json")
    assert run.code == ExitCode.JOB_FAILED
    assert json.loads(run.out)["status"] == "expired"


# result, stop, status


def test_result_of_an_unknown_id_is_a_404_line(tlfif: Tlfif) -> None:
    run = tlfif("result", UNKNOWN_ID)
    assert run.code == ExitCode.NOT_FOUND
    assert run.err.startswith(f"tlfif: unknown job {UNKNOWN_ID}: no job with this id")


def test_result_without_wait_tells_where_the_job_is(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    job_id = tlfif("infer", "hi", "--no-wait").out.strip()
    run = tlfif("result", job_id)
    assert run.code == ExitCode.OK
    assert run.out == f"{job_id}: queued, starting the node\n"


def test_result_wait_waits_for_the_reply(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    job_id = tlfif("infer", "hi", "--no-wait").out.strip()
    run = tlfif("result", job_id, "--wait", "--json")
    assert run.code == ExitCode.OK
    assert Reply.model_validate_json(run.out).id == job_id
    assert "generating" in run.err


def test_stop_sets_the_hold(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    run = tlfif("stop")
    assert run.code == ExitCode.OK
    assert run.out.startswith("node stopping: stop requested, manual hold set")
    assert router_api.hold == "manual"


def test_status_shows_node_queue_jobs_hold_and_start_error(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    router_api.start_error = "InsufficientInstanceCapacity"
    router_api.hold = "budget"
    job_id = tlfif("infer", "hi", "--no-wait").out.strip()
    run = tlfif("status")
    assert run.code == ExitCode.OK
    lines = [" ".join(line.split()) for line in run.out.splitlines()]
    assert "node stopped" in lines
    assert "queue depth 1" in lines
    assert f"your pending jobs {job_id}" in lines
    assert any(line.startswith("hold budget") for line in lines)
    assert "start error node_start_refused: InsufficientInstanceCapacity" in lines


def test_status_json(tlfif: Tlfif) -> None:
    run = tlfif("status", "--json")
    assert json.loads(run.out)["node"] == "stopped"
    assert json.loads(run.out)["nodes"] == []


def test_status_shows_each_node_under_the_fleets_word(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    router_api.node = "ready"
    router_api.nodes = [
        NodeInfo(node="i-0a", phase="ready", active=2),
        NodeInfo(node="i-0b", phase="booting"),
    ]
    run = tlfif("status")
    lines = [" ".join(line.split()) for line in run.out.splitlines()]
    assert lines[:4] == [
        "node ready",
        "i-0a ready, 2 jobs running",
        "i-0b booting",
        "queue depth 0",
    ]
    as_json = json.loads(tlfif("status", "--json").out)
    assert as_json["nodes"][0] == {"node": "i-0a", "phase": "ready", "active": 2}


def test_an_unknown_cli_setting_is_named(
    tlfif_offline: Tlfif, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLFIF_CLI_POLL_SECOND", "5")
    run = tlfif_offline("status")
    assert run.code == ExitCode.UNREACHABLE
    assert "unknown setting TLFIF_CLI_POLL_SECOND" in run.err


def test_a_wait_that_times_out_gives_the_id_back(
    tlfif: Tlfif, router_api: RouterApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLFIF_CLI_WAIT_TIMEOUT_SECONDS", "0.2")
    router_api.phases = [("queued", "booting")] * 10_000
    run = tlfif("infer", "hi")
    job_id = next(iter(router_api.jobs))
    assert run.code == ExitCode.TIMED_OUT
    assert f"`tlfif result {job_id} --wait` fetches it later" in run.err


def interrupt_polls(router_api: RouterApiDouble) -> httpx.MockTransport:
    """Ctrl-C at the first poll of the reply."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/result/"):
            raise KeyboardInterrupt
        return router_api.handle(request)

    return httpx.MockTransport(handle)


def test_ctrl_c_while_waiting_cancels_the_job_and_says_so(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    run = tlfif("infer", "hi", transport=interrupt_polls(router_api))
    job_id = next(iter(router_api.jobs))
    assert run.code == ExitCode.INTERRUPTED
    assert run.err.strip().endswith(f"tlfif: interrupted; job {job_id} cancelled")
    assert len(router_api.sent(f"POST /cancel/{job_id}")) == 1
    assert router_api.jobs[job_id].reply.status == "cancelled"


def test_ctrl_c_whose_cancel_fails_names_the_job_that_goes_on(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    router_api.canned["POST /cancel/"] = error_response(503, "queue_unavailable", "queue down")
    run = tlfif("infer", "hi", transport=interrupt_polls(router_api))
    job_id = next(iter(router_api.jobs))
    assert run.code == ExitCode.INTERRUPTED
    assert f"tlfif: interrupted; job {job_id} goes on, the cancel failed (" in run.err
    assert "Traceback" not in run.err


def test_cancel_answers_the_reply_or_says_it_came_first(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    job_id = tlfif("infer", "hi", "--no-wait").out.strip()
    cancelled = tlfif("cancel", job_id)
    assert cancelled.code == ExitCode.OK and cancelled.out == f"{job_id}: cancelled\n"
    again = tlfif("cancel", job_id)
    assert again.code == ExitCode.JOB_FAILED
    assert again.err == (
        f'tlfif: not cancelled: the job is answered already: its reply says "cancelled"; '
        f"`tlfif result {job_id}` prints it\n"
    )


def test_a_bug_is_one_line_too(tlfif: Tlfif) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    run = tlfif("status", transport=httpx.MockTransport(broken))
    assert run.code == ExitCode.JOB_FAILED
    assert run.err == "tlfif: internal error (RuntimeError: boom); please report it\n"


def test_logout_forgets_the_tokens(tlfif: Tlfif) -> None:
    assert tlfif("login").code == ExitCode.OK
    assert tlfif("logout").code == ExitCode.OK
    assert TokenFile().load("local") is None


def test_token_prints_the_access_token_an_openai_client_sends(tlfif: Tlfif) -> None:
    run = tlfif("token")  # the demo user is logged in by itself
    stored = TokenFile().load("local")
    assert run.code == ExitCode.OK and stored is not None
    assert run.out == stored.access_token + "\n" and run.err == ""


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_login_on_a_terminal_asks_for_username_and_password(
    profile: StackConfig,
    cognito_pool: CognitoPool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    save_profile(profile.model_copy(update={"demo_username": None, "demo_password": None}))
    monkeypatch.setattr(sys, "stdin", TerminalInput("demo\n"))
    monkeypatch.setattr("getpass.getpass", lambda prompt="", stream=None: cognito_pool.password)
    assert main(["login"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "username: " in captured.err
    assert "password: " in captured.err
    assert captured.out == ""
    assert TokenFile().load("local") is not None
