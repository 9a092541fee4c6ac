"""Issue 18 on `make up`'s stack (`python -m local`): a reply's webhook reaches an HTTPS
receiver, signed under the secret GET /webhook-secret shows; a failing receiver is tried a
bounded number of times while the reply is readable already; a private-address webhook is
refused at submit and a rebinding one at send; every reply reaches the replies topic, seen
here by an SQS subscriber in moto.

The stack's own bridge (local/reply_events.py) takes moto's S3 -> SQS events to the sender's
handler, as S3 -> Lambda would on AWS. Host names resolve at the DNS server double
(TLFIF_WEBHOOK_NAMESERVER); the receiver's certificate is from a CA made for the test
(TLFIF_SENDER_CA_FILE). The local stack allows loopback receivers; nothing else is relaxed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.doubles.dns_server_double import DnsServerDouble
from tests.doubles.webhook_receiver_double import WebhookReceiverDouble
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import StackRun, running_stack, wait_reply, wait_until
from tlfif.webhook_contracts import verify_signature

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

MODEL = "engine-double"
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
RECEIVER, REBINDING, INSIDE = "receiver.test", "rebind.test", "inside.test"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    engine_double_server: RunningEngineDouble,
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
) -> Iterator[StackRun]:
    with running_stack(
        tmp_path_factory.mktemp("webhooks-stack"),
        {
            "TLFIF_LOCAL_ENGINE_URL": engine_double_server.url,
            "TLFIF_LOCAL_ENGINE_MODEL": MODEL,
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": "1",
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": "60",
            "TLFIF_WEBHOOK_NAMESERVER": dns.nameserver,
            "TLFIF_SENDER_CA_FILE": str(receiver.ca_file),
            "TLFIF_SENDER_ATTEMPTS": str(ATTEMPTS),
            "TLFIF_SENDER_BACKOFF_SECONDS": str(BACKOFF_SECONDS),
        },
    ) as run:
        yield run


@pytest.fixture(scope="module")
def api(stack: StackRun) -> Iterator[httpx.Client]:
    with stack.api() as client:
        yield client


@pytest.fixture(scope="module")
def topic_queue(stack: StackRun) -> str:
    """An SQS queue subscribed to the stack's replies topic (raw messages)."""
    sns, sqs = stack.aws("sns"), stack.aws("sqs")
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if "replies" in t["TopicArn"]]
    queue_url = sqs.create_queue(QueueName="replies-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(queue_url)


def ask(api: httpx.Client, prompt: str, webhook: str) -> str:
    answer = api.post("/infer", json={"prompt": prompt, "max_tokens": 8, "webhook": webhook})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def notices(stack: StackRun, queue_url: str, job_id: str, timeout: float = 20) -> dict[str, Any]:
    sqs = stack.aws("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body: dict[str, Any] = json.loads(message["Body"])
            if body.get("id") == job_id:
                return body
    raise AssertionError(f"no notice of {job_id} on the replies topic within {timeout} s")


def sender_events(stack: StackRun, event: str, job_id: str) -> list[dict[str, Any]]:
    log = Path(stack.env["TLFIF_LOCAL_RUN_DIR"]) / "reply-events.log"
    found = []
    for line in log.read_text().splitlines() if log.exists() else []:
        if event in line and job_id in line:
            found.append(json.loads(line[line.index("{") :]))
    return found


def test_a_reply_reaches_its_webhook_signed_and_the_topic_hears_of_it(
    stack: StackRun, api: httpx.Client, receiver: WebhookReceiverDouble, topic_queue: str
) -> None:
    job_id = ask(api, "a webhook, please", receiver.url(path="/hook"))
    reply = wait_reply(api, job_id)
    [delivery] = receiver.wait_for("/hook")
    secret = api.get("/webhook-secret").json()["secret"]
    headers = delivery.headers
    assert verify_signature(
        secret, headers["x-tlfif-timestamp"], delivery.body, headers["x-tlfif-signature"]
    )
    assert headers["x-tlfif-delivery"] == job_id and headers["host"].startswith(RECEIVER)
    assert delivery.sni == RECEIVER  # TLS checked for the name, the connection to its address
    body = json.loads(delivery.body)
    assert body["id"] == job_id and body["status"] == "done" and body["attempt"] == 1
    assert "text" not in body  # the user did not ask for it
    assert body["reply_key"].endswith(f"/{job_id}.json")
    written = stack.aws("s3").head_object(Bucket=stack.bucket, Key=body["reply_key"])
    delay_ms = delivery.received_ms - written["LastModified"].timestamp() * 1000
    print(f"\nwebhook received {delay_ms:.0f} ms after the reply was written "
          f"({delivery.received_ms - reply['finished_ms']} ms after finished_ms)")  # fmt: skip

    notice = notices(stack, topic_queue, job_id)
    assert notice["status"] == "done" and notice["submitter"] == body["reply_key"].split("/")[1]


def test_the_text_comes_along_once_the_user_asks_for_it(
    api: httpx.Client, receiver: WebhookReceiverDouble
) -> None:
    turned = api.put("/webhook-settings", json={"include_text": True})
    assert turned.status_code == 200, turned.text
    try:
        job_id = ask(api, "say it in the hook", receiver.url(path="/with-text"))
        reply = wait_reply(api, job_id)
        [delivery] = receiver.wait_for("/with-text")
        assert json.loads(delivery.body)["text"] == reply["text"]
        print(f"\nwarm sender: received {delivery.received_ms - reply['finished_ms']} ms "
              "after finished_ms")  # fmt: skip
    finally:
        api.put("/webhook-settings", json={"include_text": False})


def test_a_failing_receiver_is_tried_a_bounded_number_of_times_after_the_reply_is_readable(
    stack: StackRun, api: httpx.Client, receiver: WebhookReceiverDouble
) -> None:
    job_id = ask(api, "a failing receiver", receiver.url(path="/status/503"))
    reply = wait_reply(api, job_id)
    readable_ms = time.time() * 1000
    tries = receiver.wait_for("/status/503", ATTEMPTS)
    # The reply was there to read before the receiver had been tried every time.
    assert readable_ms < tries[-1].received_ms
    wait_until(lambda: sender_events(stack, "webhook_not_delivered", job_id), 10, "the give-up")
    time.sleep(BACKOFF_SECONDS * 2**ATTEMPTS)  # longer than another try would wait
    assert len(receiver.deliveries("/status/503")) == ATTEMPTS
    assert [json.loads(t.body)["attempt"] for t in tries] == list(range(1, ATTEMPTS + 1))
    [given_up] = sender_events(stack, "webhook_not_delivered", job_id)
    assert given_up["outcome"] == "failed" and given_up["attempts"] == ATTEMPTS
    # The reply itself never changed: one version in S3, the one the client read.
    assert stack.stored_replies(job_id) == [reply]


def test_a_private_address_webhook_is_refused_at_submit(
    api: httpx.Client, dns: DnsServerDouble
) -> None:
    dns.answer(INSIDE, "10.20.30.40")
    answer = api.post("/infer", json={"prompt": "to the inside", "webhook": f"https://{INSIDE}/x"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "webhook" and "private" in error["message"]
    assert "10.20.30.40" not in error["message"]


def test_a_host_that_rebinds_to_the_metadata_address_is_refused_at_send(
    stack: StackRun, api: httpx.Client, receiver: WebhookReceiverDouble, dns: DnsServerDouble
) -> None:
    # Loopback (allowed on the local stack) when the router checks, metadata at send.
    dns.answer(REBINDING, "127.0.0.1", "169.254.169.254")
    job_id = ask(api, "rebinding", receiver.url(host=REBINDING, path="/rebind"))
    assert dns.queries[REBINDING] == 1
    wait_reply(api, job_id)
    wait_until(lambda: sender_events(stack, "webhook_not_delivered", job_id), 20, "the refusal")
    [refused] = sender_events(stack, "webhook_not_delivered", job_id)
    assert refused["outcome"] == "refused" and re.search("private", refused["detail"])
    assert receiver.deliveries("/rebind") == []
