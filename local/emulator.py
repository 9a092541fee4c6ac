"""The AWS emulator: moto's server mode, seeded as infra would leave an account.

Seeded: the node instances (stopped, tagged env=tinyllama; one unless TLFIF_LOCAL_NODES),
the replies bucket, the replies topic (SNS) and the queue the bucket tells of each new reply
(ADR 0031: moto delivers S3 events to SQS but runs no Lambda without Docker;
local/reply_events.py reads it), and a Cognito user pool with an app client
(USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), the owner group, and two confirmed users: the demo
user, who owns the deployment, and a guest, who does not. moto signs real RS256 tokens
naming AWS's issuer, and serves their keys itself.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.processes import ChildProcess, stopped_on_failure, wait_until_answers

# An x86 Amazon Linux AMI from moto's built-in catalogue; moto validates none by default.
AMI_ID = "ami-760aaa0f"
INSTANCE_TYPE = "g4dn.xlarge"
# moto accepts any credentials; these only have to look like keys.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
START_TIMEOUT_SECONDS = 60.0
# The Cognito group whose members own the deployment (RouterSettings.owner_group's default).
OWNER_GROUP = "owner"


@dataclass(frozen=True)
class EmulatedAccount:
    """What the seeding created, and where its parts answer."""

    endpoint_url: str
    region: str
    instance_ids: tuple[str, ...]  # the nodes', lowest first (the one EC2 starts first)
    bucket: str
    user_pool_id: str
    client_id: str
    replies_topic_arn: str
    reply_events_queue_url: str

    @property
    def instance_id(self) -> str:
        """The first node's instance, the only one unless TLFIF_LOCAL_NODES says more."""
        return self.instance_ids[0]

    @property
    def issuer(self) -> str:
        # moto names AWS's issuer in its tokens, but serves the keys at its own address.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"


def start_moto(port: int, env: Mapping[str, str], log_dir: Path) -> tuple[ChildProcess, str]:
    """moto's server on 127.0.0.1:`port`; returns it and its URL once it answers."""
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    moto = ChildProcess("moto", args, env, log_dir)
    url = f"http://127.0.0.1:{port}"
    with stopped_on_failure(moto):
        wait_until_answers(moto, f"{url}/moto-api/", START_TIMEOUT_SECONDS)
    return moto, url


def aws_client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def seed_account(
    endpoint_url: str,
    region: str,
    bucket: str,
    node_tag: tuple[str, str],
    users: Sequence[PoolUser],
    node_count: int = 1,
) -> EmulatedAccount:
    s3 = aws_client("s3", endpoint_url, region)
    # us-east-1 is S3's default location and refuses to be named as one.
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    # Versioned, as infra/modules/storage makes the replies bucket: a reply written twice
    # would show as a second version.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    cognito = aws_client("cognito-idp", endpoint_url, region)
    pool_id, client_id = seed_user_pool(cognito, users, name="tl-fif-local")
    topic = aws_client("sns", endpoint_url, region).create_topic(Name="tl-fif-local-replies")
    return EmulatedAccount(
        endpoint_url=endpoint_url,
        region=region,
        instance_ids=_seed_nodes(aws_client("ec2", endpoint_url, region), node_tag, node_count),
        bucket=bucket,
        user_pool_id=pool_id,
        client_id=client_id,
        replies_topic_arn=topic["TopicArn"],
        reply_events_queue_url=_seed_reply_events(
            s3, aws_client("sqs", endpoint_url, region), bucket
        ),
    )


def _seed_reply_events(s3: Any, sqs: Any, bucket: str) -> str:
    """The queue the bucket notifies of each new reply, as infra's notification does the
    sender Lambda (infra/main.tf): ObjectCreated on replies/*.json."""
    queue_url = sqs.create_queue(QueueName="tl-fif-local-reply-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rules = [{"Name": "prefix", "Value": "replies/"}, {"Name": "suffix", "Value": ".json"}]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ]
        },
    )
    return str(queue_url)


def _seed_nodes(ec2: Any, node_tag: tuple[str, str], count: int) -> tuple[str, ...]:
    key, value = node_tag
    reservation = ec2.run_instances(
        ImageId=AMI_ID,
        InstanceType=INSTANCE_TYPE,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": key, "Value": value}]}],
    )
    instance_ids = sorted(str(i["InstanceId"]) for i in reservation["Instances"])
    # infra leaves the nodes stopped: the first prompt is a cold start.
    ec2.stop_instances(InstanceIds=instance_ids)
    return tuple(instance_ids)


@dataclass(frozen=True)
class PoolUser:
    username: str
    password: str
    owner: bool  # a member of the owner group (ADR 0021)


def seed_user_pool(
    cognito: Any, users: Sequence[PoolUser], name: str = "tl-fif"
) -> tuple[str, str]:
    """A user pool with the CLI's app client, the owner group and `users` (passwords set for
    good, so no NEW_PASSWORD_REQUIRED challenge); its id and the client's id."""
    pool_id = str(cognito.create_user_pool(PoolName=name)["UserPool"]["Id"])
    client_id = str(
        cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="tl-fif-cli",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    )
    cognito.create_group(GroupName=OWNER_GROUP, UserPoolId=pool_id)
    for user in users:
        cognito.admin_create_user(
            UserPoolId=pool_id, Username=user.username, MessageAction="SUPPRESS"
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=user.username, Password=user.password, Permanent=True
        )
        if user.owner:
            cognito.admin_add_user_to_group(
                UserPoolId=pool_id, Username=user.username, GroupName=OWNER_GROUP
            )
    return pool_id, client_id


def instance_state(ec2: Any, instance_id: str) -> str:
    """The instance's state name (pending, running, stopping, stopped, ...)."""
    answer = ec2.describe_instances(InstanceIds=[instance_id])
    return str(answer["Reservations"][0]["Instances"][0]["State"]["Name"])
