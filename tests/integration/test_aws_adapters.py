"""The AWS adapters (tlfif/aws/) against moto in server mode, and the local IMDSv2 endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
import uvicorn
from botocore.exceptions import ClientError

from local.imds import ImdsEmulator
from tests.fixtures.moto_server import REGION
from tlfif.aws.ec2 import START_REFUSED_CODES, Ec2NodeControl, ec2_errors
from tlfif.aws.imds import ImdsSelfStop
from tlfif.aws.s3 import S3ReplyStore
from tlfif.aws.ssm import SsmReadinessMarker
from tlfif.contracts import Reply, Usage
from tlfif.errors import NodeControlError, NodeStartRefused, ReplyExists, ReplyStoreError
from tlfif.settings import CommonSettings

TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


def node_control() -> Ec2NodeControl:
    return Ec2NodeControl(CommonSettings(region=REGION))


def tag_instance(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservation = ec2.run_instances(
        ImageId="ami-760aaa0f",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )
    return str(reservation["Instances"][0]["InstanceId"])


def ec2_state(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


# --- EC2: the node found by its tag ---------------------------------------------------------


def test_node_is_found_by_tag_and_started_and_stopped(node_instance: str) -> None:
    tag_instance({"env": "other"})  # a stranger's instance must not be touched
    node = node_control()
    assert node.state() == "stopped"
    assert node.start() == "pending"
    assert ec2_state(node_instance) == "running"
    assert node.state() == "running"
    assert node.stop() == "stopping"
    assert node.state() == "stopped"


def test_missing_node_is_a_control_error(aws: str) -> None:
    with pytest.raises(NodeControlError, match="no EC2 instance tagged env=tinyllama"):
        node_control().state()


def test_terminated_node_is_not_the_node(node_instance: str) -> None:
    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[node_instance])
    with pytest.raises(NodeControlError, match="no EC2 instance tagged"):
        node_control().start()


def test_several_tagged_instances_are_a_fleet_started_one_at_a_time(node_instance: str) -> None:
    """ADR 0032: the lowest id first, another only by scale_out and within its limit, all
    stopped together."""
    second = tag_instance({"env": "tinyllama"})
    control = node_control()
    first, other = sorted([node_instance, second])
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.stop_instances(InstanceIds=[node_instance, second])
    assert control.instance_states() == {first: "stopped", other: "stopped"}
    assert control.state() == "stopped"

    control.start()
    assert (ec2_state(first), ec2_state(other)) == ("running", "stopped")
    control.start()  # one is awake: nothing more starts
    assert ec2_state(other) == "stopped"
    assert control.scale_out(limit=1) is None  # one awake is the limit
    assert control.scale_out(limit=2) is not None
    assert ec2_state(other) == "running" and control.state() == "running"
    assert control.scale_out(limit=8) is None  # none left to start

    control.stop()
    assert (ec2_state(first), ec2_state(other)) == ("stopped", "stopped")


@pytest.mark.parametrize("code", sorted(START_REFUSED_CODES))
def test_aws_refusals_of_start_are_start_refused(code: str) -> None:
    # moto cannot be made to run out of capacity; the mapping is checked on botocore's error.
    error = ClientError({"Error": {"Code": code, "Message": "try later"}}, "StartInstances")
    with (
        pytest.raises(NodeStartRefused, match=f"StartInstances: {code}"),
        ec2_errors("StartInstances", refused=START_REFUSED_CODES),
    ):
        raise error


def test_other_aws_errors_are_control_errors() -> None:
    error = ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "X")
    with (
        pytest.raises(NodeControlError, match="UnauthorizedOperation"),
        ec2_errors("StartInstances", refused=START_REFUSED_CODES),
    ):
        raise error


def test_unreachable_ec2_is_a_control_error(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(NodeControlError, match="DescribeInstances failed"):
        node_control().state()


# --- S3: write-once replies -----------------------------------------------------------------


def a_reply(text: str) -> Reply:
    return Reply(id="job-1", status="done", text=text, usage=Usage(completion_tokens=3))


@pytest.mark.anyio
async def test_reply_is_written_once_and_read_back(replies_bucket: str) -> None:
    store = S3ReplyStore(replies_bucket, REGION)
    key = "replies/user-1/job-1.json"
    await store.put_reply(key, a_reply("first"))
    with pytest.raises(ReplyExists):
        await store.put_reply(key, a_reply("second"))
    stored = await store.get_reply(key)
    assert stored is not None
    assert stored.text == "first"
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=replies_bucket, Key=key)
    assert head["ContentType"] == "application/json"


@pytest.mark.anyio
async def test_missing_reply_is_none(replies_bucket: str) -> None:
    assert await S3ReplyStore(replies_bucket, REGION).get_reply("replies/user-1/nope.json") is None


@pytest.mark.anyio
async def test_missing_bucket_is_a_store_error(aws: str) -> None:
    store = S3ReplyStore("no-such-bucket-here", REGION)
    with pytest.raises(ReplyStoreError, match="NoSuchBucket"):
        await store.put_reply("replies/u/j.json", a_reply("x"))
    with pytest.raises(ReplyStoreError, match="NoSuchBucket"):
        await store.get_reply("replies/u/j.json")


@pytest.mark.anyio
async def test_object_that_is_not_a_reply_is_a_store_error(replies_bucket: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=replies_bucket, Key="replies/u/bad.json", Body=b"{not json")
    with pytest.raises(ReplyStoreError, match="not a valid reply"):
        await S3ReplyStore(replies_bucket, REGION).get_reply("replies/u/bad.json")


# --- IMDSv2 self-stop -----------------------------------------------------------------------


@pytest.fixture
def imds_url(node_instance: str) -> Iterator[str]:
    """local/imds.py under uvicorn on a free loopback port, serving the node's id."""
    app = ImdsEmulator(node_instance, REGION).app
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "IMDS endpoint did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_imds_requires_a_session_token(imds_url: str, node_instance: str) -> None:
    with httpx.Client(base_url=imds_url) as imds:
        assert imds.get("/latest/meta-data/instance-id").status_code == 401
        bad = imds.get("/latest/meta-data/instance-id", headers={TOKEN_HEADER: "forged"})
        assert bad.status_code == 401
        assert imds.put("/latest/api/token").status_code == 400
        assert imds.put("/latest/api/token", headers={TTL_HEADER: "21601"}).status_code == 400
        assert imds.put("/latest/api/token", headers={TTL_HEADER: "0"}).status_code == 400
        token = imds.put("/latest/api/token", headers={TTL_HEADER: "21600"})
        assert token.status_code == 200
        assert token.headers[TTL_HEADER] == "21600"
        auth = {TOKEN_HEADER: token.text}
        assert imds.get("/latest/meta-data/instance-id", headers=auth).text == node_instance
        assert imds.get("/latest/meta-data/placement/region", headers=auth).text == REGION
        assert imds.get("/latest/meta-data/ami-id", headers=auth).status_code == 404


def test_imds_token_expires(imds_url: str) -> None:
    with httpx.Client(base_url=imds_url) as imds:
        token = imds.put("/latest/api/token", headers={TTL_HEADER: "1"}).text
        time.sleep(1.1)
        answer = imds.get("/latest/meta-data/instance-id", headers={TOKEN_HEADER: token})
        assert answer.status_code == 401


def test_self_stop_stops_this_instance(imds_url: str, node_instance: str) -> None:
    other = tag_instance({"env": "other"})
    node_control().start()
    self_stop = ImdsSelfStop(imds_url, REGION)
    assert self_stop.instance_id() == node_instance
    self_stop.stop_self()
    assert ec2_state(node_instance) == "stopped"
    assert ec2_state(other) == "running"


def test_unreachable_imds_is_a_control_error(aws: str) -> None:
    with pytest.raises(NodeControlError, match="unreachable"):
        ImdsSelfStop("http://127.0.0.1:9", REGION, timeout_seconds=0.5).instance_id()


# --- SSM readiness marker -------------------------------------------------------------------


def test_readiness_marker_is_written_and_overwritten(aws: str) -> None:
    marker = SsmReadinessMarker(REGION)
    marker.mark_ready("i-0123456789abcdef0", 1_700_000_000_000)
    marker.mark_ready("i-0123456789abcdef0", 1_700_000_060_500)
    ssm = boto3.client("ssm", region_name=REGION)
    parameter = ssm.get_parameter(Name="/tl-fif/ready/i-0123456789abcdef0")["Parameter"]
    assert parameter["Value"] == "2023-11-14T22:14:20.500+00:00"
    assert parameter["Version"] == 2
