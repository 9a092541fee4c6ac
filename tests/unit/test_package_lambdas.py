"""tools/package_lambdas.py without building anything (tests/integration/test_lambda_package.py
builds the zips): what each function's zip takes from the project."""

from __future__ import annotations

from router.chat_page import ASSETS, PAGE
from tools.package_lambdas import BASE, FUNCTIONS, ROOT, local_modules, pinned_requirements


def test_the_routers_zip_carries_every_file_the_chat_page_serves() -> None:
    (router,) = [function for function in FUNCTIONS if function.name == "router"]
    carried = {
        path.relative_to(ROOT).as_posix() for path in local_modules(router.handler, router.data)
    }
    assert {f"router/static/{name}" for name in (PAGE, *ASSETS)} <= carried
    assert "router/chat_page.py" in carried and "tlfif/lua/enqueue.lua" in carried


def test_no_other_function_carries_the_chat_page() -> None:
    for function in FUNCTIONS:
        if function.name != "router":
            carried = local_modules(function.handler, function.data)
            assert not [path for path in carried if "static" in path.parts], function.name


def test_the_webhook_senders_zip_carries_what_it_calls_pinned() -> None:
    (sender,) = [function for function in FUNCTIONS if function.name == "webhook_sender"]
    assert sender.handler == "webhook_sender.handler"
    assert sender.requires == (*BASE, "httpx", "dnspython", "boto3")
    assert sender.aws_services == ("s3", "sns")
    pins = pinned_requirements()
    assert {"httpx", "dnspython", "boto3"} <= set(pins)
    carried = {path.relative_to(ROOT).as_posix() for path in local_modules(sender.handler)}
    assert "webhook_sender/handler.py" in carried
    assert not [path for path in carried if path.startswith(("router/", "watcher/"))]
