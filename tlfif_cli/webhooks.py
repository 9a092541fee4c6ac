"""`tlfif webhook-secret show|rotate` and `tlfif webhook-text on|off`: the caller's own
webhook secret and setting (ADR 0031).

The secret goes to stdout alone (so `tlfif webhook-secret show > secret.txt` keeps only
it); how a receiver checks a delivery with it goes to stderr.
"""

from __future__ import annotations

from tlfif.webhook_contracts import SIGNATURE_HEADER, SIGNATURE_VERSION, TIMESTAMP_HEADER
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode
from tlfif_cli.output import write_json

HOW_TO_CHECK = (
    f"receivers check each delivery: HMAC-SHA256 under this secret over "
    f'"<{TIMESTAMP_HEADER}>.<body>" (the raw body), hex, must equal {SIGNATURE_HEADER} '
    f"({SIGNATURE_VERSION}=<hex>); refuse a timestamp older than 5 minutes"
)


def cmd_webhook_secret(ctx: Context) -> ExitCode:
    rotate = ctx.args.webhook_secret_command == "rotate"
    with ctx.client() as api:
        profile = api.rotate_webhook_secret() if rotate else api.webhook_secret()
    if ctx.args.json:
        write_json(profile)
        return ExitCode.OK
    ctx.out.print(profile.secret)
    if rotate:
        ctx.err.print(
            "webhook secret rotated: the old one stopped working at once, so give every "
            "receiver this one now"
        )
    text = "on" if profile.include_text else "off (`tlfif webhook-text on` sends it)"
    ctx.err.print(f"{HOW_TO_CHECK}; the reply's text in deliveries: {text}")
    return ExitCode.OK


def cmd_webhook_text(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        view = api.set_webhook_text(ctx.args.setting == "on")
    if ctx.args.json:
        write_json(view)
    elif view.include_text:
        ctx.out.print("webhook deliveries now carry the reply's text")
    else:
        ctx.out.print("webhook deliveries now carry the reply's facts only, not its text")
    return ExitCode.OK
