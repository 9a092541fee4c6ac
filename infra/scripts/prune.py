"""Keep the last N Lambda versions and the last N node AMIs; delete the rest.

    python infra/scripts/prune.py lambda --keep 5 tl-fif-router tl-fif-queue_health ...
    python infra/scripts/prune.py amis --keep 2 --parameter /tl-fif/latest_ami_id

OpenTofu publishes a Lambda version per deploy and never deletes one; Packer registers an AMI
per bake. Versions an alias points at, and the AMI the SSM parameter names, are never
deleted. `--dry-run` prints what would go. Arguments: `tofu output prune_settings`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any


def versions_to_delete(versions: Iterable[str], protected: set[str], keep: int) -> list[str]:
    """Published versions beyond the newest `keep`, never $LATEST nor an alias's target."""
    numbered = sorted((int(v) for v in versions if v.isdigit()), reverse=True)
    return [str(v) for v in numbered[keep:] if str(v) not in protected]


def images_to_deregister(images: Iterable[dict[str, Any]], current: str, keep: int) -> list[str]:
    """AMIs beyond the newest `keep` (by CreationDate), never the current one."""
    newest_first = sorted(images, key=lambda image: str(image["CreationDate"]), reverse=True)
    return [str(i["ImageId"]) for i in newest_first[keep:] if i["ImageId"] != current]


def prune_lambda(functions: Sequence[str], keep: int, dry_run: bool) -> None:
    import boto3

    client = boto3.client("lambda")
    for name in functions:
        versions = [
            v["Version"]
            for page in client.get_paginator("list_versions_by_function").paginate(
                FunctionName=name
            )
            for v in page["Versions"]
        ]
        aliases = client.list_aliases(FunctionName=name)["Aliases"]
        protected = {a["FunctionVersion"] for a in aliases}
        for version in versions_to_delete(versions, protected, keep):
            print(f"{name}: delete version {version}")
            if not dry_run:
                client.delete_function(FunctionName=name, Qualifier=version)


def prune_amis(parameter: str, keep: int, dry_run: bool) -> None:
    import boto3

    current = boto3.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    ec2 = boto3.client("ec2")
    images = ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "tag:tl-fif", "Values": ["gpu-node"]}]
    )["Images"]
    for image_id in images_to_deregister(images, current, keep):
        image = next(i for i in images if i["ImageId"] == image_id)
        snapshots = [
            m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "Ebs" in m
        ]
        print(f"deregister {image_id} and delete {', '.join(snapshots) or 'no snapshot'}")
        if not dry_run:
            ec2.deregister_image(ImageId=image_id)
            for snapshot in snapshots:
                ec2.delete_snapshot(SnapshotId=snapshot)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    lam = commands.add_parser("lambda", help="delete old Lambda versions")
    lam.add_argument("--keep", type=int, default=5)
    lam.add_argument("functions", nargs="+")
    amis = commands.add_parser("amis", help="deregister old node AMIs and their snapshots")
    amis.add_argument("--keep", type=int, default=2)
    amis.add_argument("--parameter", default="/tl-fif/latest_ami_id")
    args = parser.parse_args(argv)
    if args.command == "lambda":
        prune_lambda(args.functions, args.keep, args.dry_run)
    else:
        prune_amis(args.parameter, args.keep, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
