"""Property tests of infra/ (the Phi-3 seed's plan: resource completeness, environment
parameterisation, least-privilege network), read from the HCL itself: no tofu binary."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.hcl import (
    ENVS,
    INFRA,
    REPO,
    Resource,
    blocks,
    load,
    module_dirs,
    nested,
    resources,
    tf_files,
    variables,
)

ENV_FILES = sorted(ENVS.glob("*.tfvars"))
WIDE = {"0.0.0.0/0", "::/0"}


def resource_types() -> set[str]:
    return {r.type for r in resources()}


def module_calls() -> dict[str, dict[str, Any]]:
    calls: dict[str, dict[str, Any]] = {}
    for _, block in blocks("module", [INFRA / "main.tf"]):
        calls.update(block)
    return calls


# --- Property 1: resource completeness --------------------------------------------------


REQUIRED = {
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_egress_only_internet_gateway",
    "aws_vpc_endpoint",
    "aws_security_group",
    "aws_elasticache_serverless_cache",
    "aws_elasticache_parameter_group",
    "aws_elasticache_user_group",
    "aws_lambda_function",
    "aws_lambda_alias",
    "aws_apigatewayv2_api",
    "aws_apigatewayv2_authorizer",
    "aws_apigatewayv2_route",
    "aws_apigatewayv2_stage",
    "aws_cognito_user_pool",
    "aws_cognito_user_pool_domain",
    "aws_cognito_user_pool_client",
    "aws_launch_template",
    "aws_instance",
    "aws_iam_instance_profile",
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_cloudwatch_event_rule",
    "aws_budgets_budget",
    "aws_sns_topic",
    "aws_s3_bucket_notification",
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_metric_alarm",
    "aws_cloudtrail",
    "aws_config_config_rule",
    "aws_ssm_document",
}
# Always-on parts of the seed's diagram that the ADRs rule out (0010, 0011).
FORBIDDEN = {
    "aws_nat_gateway",
    "aws_eip",
    "aws_lb",
    "aws_alb",
    "aws_synthetics_canary",
    "aws_key_pair",
    "aws_dynamodb_table",
    "aws_dlm_lifecycle_policy",
}


def test_every_required_resource_exists() -> None:
    assert REQUIRED - resource_types() == set()


def test_no_always_on_resource_of_the_seed_diagram() -> None:
    assert FORBIDDEN & resource_types() == set()


def test_module_calls_pass_exactly_the_module_variables() -> None:
    calls = module_calls()
    assert set(calls) == {d.name for d in module_dirs()[1:]}
    for name, call in calls.items():
        declared = variables(INFRA / "modules" / name)
        passed = set(call) - {"source"}
        required = {v for v, body in declared.items() if "default" not in body}
        assert call["source"] == f"./modules/{name}"
        assert passed - set(declared) == set(), f"module {name}: unknown arguments"
        assert required - passed == set(), f"module {name}: missing arguments"


def test_every_variable_and_output_is_described() -> None:
    for kind in ("variable", "output"):
        for path, block in blocks(kind):
            for name, body in block.items():
                assert body.get("description"), f"{path}: {kind} {name} has no description"


# --- Property 2: environment parameterisation -------------------------------------------


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_file_sets_every_variable_and_nothing_else(env_file: Path) -> None:
    declared = set(variables(INFRA))
    values = load(env_file)
    assert declared - set(values) == set(), "variables not set"
    assert set(values) - declared == set(), "unknown variables"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_values_satisfy_the_validations(env_file: Path) -> None:
    v = load(env_file)
    assert env_file.stem == v["environment"]
    assert v["router_ec2_path"] in {"dualstack", "endpoint"}
    assert v["redis_mode"] in {"serverless", "node"}
    assert v["lambda_architecture"] in {"x86_64", "arm64"}
    assert len(v["availability_zones"]) >= 2
    assert 0 <= v["node_subnet_index"] < len(v["availability_zones"])
    assert v["idle_miss_minutes"] > 30, "must exceed the longest idle a job may ask"
    assert v["node_instance_type"] == "g4dn.xlarge"
    assert v["log_retention_days"] == 30
    assert v["replies_retention_days"] == 365
    assert v["budget_eur"] == 20 and v["budget_warning_eur"] == 15
    assert v["router_max_wait_seconds"] <= 25
    assert v["latency_alarm_ms"] == 300


def test_dev_and_prod_differ_only_where_meant() -> None:
    dev, prod = (load(ENVS / f"{e}.tfvars") for e in ("dev", "prod"))
    differing = {k for k in dev if dev[k] != prod[k]}
    assert differing <= {
        "environment",
        "vpc_cidr",
        "cognito_domain_prefix",
        "enable_config_rules",
        "enable_dr_test",
        # prod asks every sign-in for a TOTP code; a dev pool is for trying things out.
        "mfa_required",
        # prod reserves the router's concurrency; a new dev account's quota (10) cannot.
        "router_reserved_concurrency",
        # prod writes no gateway access log, whose cost a stranger could drive (ADR 0021).
        "api_access_log",
        # each env's own AMI parameter: a dev bake must not move prod (bake.yml).
        "ami_parameter_name",
    }


# --- Network: no way in ------------------------------------------------------------------


def rules() -> list[tuple[str, Resource, dict[str, Any]]]:
    """(direction, resource, rule body) of every security group rule, in any form."""
    found: list[tuple[str, Resource, dict[str, Any]]] = []
    for r in resources("aws_security_group"):
        found += [("ingress", r, b) for b in nested(r.body, "ingress")]
        found += [("egress", r, b) for b in nested(r.body, "egress")]
    for r in resources("aws_vpc_security_group_ingress_rule"):
        found.append(("ingress", r, r.body))
    for r in resources("aws_vpc_security_group_egress_rule"):
        found.append(("egress", r, r.body))
    for r in resources("aws_security_group_rule"):
        found.append((r.body["type"], r, r.body))
    return found


def test_there_are_rules_to_check() -> None:
    assert len(rules()) >= 6


def test_no_ingress_from_anywhere() -> None:
    for direction, r, body in rules():
        if direction != "ingress":
            continue
        # Ingress only from another group or a prefix list, never from CIDRs.
        assert body.get("referenced_security_group_id") or body.get("prefix_list_id"), r.address
        for key in ("cidr_ipv4", "cidr_ipv6", "cidr_blocks", "ipv6_cidr_blocks"):
            assert not body.get(key), f"{r.address}: ingress from {body.get(key)}"


def test_node_group_has_no_ingress_at_all() -> None:
    for direction, r, body in rules():
        if direction == "ingress":
            assert "aws_security_group.node" not in body.get("security_group_id", ""), r.address
    node = next(r for r in resources("aws_security_group") if r.name == "node")
    assert "ingress" not in node.body


def test_no_port_22_anywhere() -> None:
    for _, r, body in rules():
        assert str(body.get("ip_protocol", body.get("protocol"))) not in {"-1", "all"}, r.address
        low, high = int(body["from_port"]), int(body["to_port"])
        assert not low <= 22 <= high, f"{r.address} opens port 22"
    for r in resources("aws_launch_template") + resources("aws_instance"):
        assert "key_name" not in r.body, f"{r.address}: no key pair, SSM only"


def test_default_security_group_is_emptied() -> None:
    (default,) = resources("aws_default_security_group")
    assert "ingress" not in default.body and "egress" not in default.body


def test_private_subnets_leave_only_through_the_egress_only_gateway() -> None:
    tables = {r.name: r for r in resources("aws_route_table")}
    private_routes = nested(tables["private"].body, "route")
    assert all("egress_only_gateway_id" in route for route in private_routes)
    assert not any(route.get("cidr_block") == "0.0.0.0/0" for route in private_routes)


# --- Buckets, instances, encryption -----------------------------------------------------


def _refers(value: Any, resource: Resource) -> bool:
    return f"aws_s3_bucket.{resource.name}" in str(value)


def test_every_bucket_blocks_public_access_and_is_encrypted_and_versioned() -> None:
    buckets = resources("aws_s3_bucket")
    assert len(buckets) >= 2
    for bucket in buckets:
        same_file = [r for r in resources() if r.path == bucket.path]

        def companion(
            kind: str, bucket: Resource = bucket, same: list[Resource] = same_file
        ) -> Resource:
            matches = [
                r
                for r in same
                if r.type == kind
                and _refers(r.body.get("for_each", "") + str(r.body["bucket"]), bucket)
            ]
            assert matches, f"{bucket.address} has no {kind}"
            return matches[0]

        block = companion("aws_s3_bucket_public_access_block")
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert block.body[flag] is True, f"{bucket.address}: {flag}"
        companion("aws_s3_bucket_server_side_encryption_configuration")
        versioning = companion("aws_s3_bucket_versioning")
        assert nested(versioning.body, "versioning_configuration")[0]["status"] == "Enabled"
        companion("aws_s3_bucket_ownership_controls")
        companion("aws_s3_bucket_policy")


def test_lifecycle_expires_old_versions_and_never_goes_to_glacier() -> None:
    configs = resources("aws_s3_bucket_lifecycle_configuration")
    assert configs
    for config in configs:
        for rule in nested(config.body, "rule"):
            assert "transition" not in rule, "Glacier is a trap for 1 KB replies (storage module)"
            assert nested(rule, "noncurrent_version_expiration"), config.address
    replies = next(c for c in configs if c.name == "replies")
    rules = nested(replies.body, "rule")
    days = [nested(rule, "expiration")[0].get("days") for rule in rules if "expiration" in rule]
    assert "${var.replies_retention_days}" in days


def test_imdsv2_required_everywhere() -> None:
    for r in resources("aws_launch_template") + resources("aws_instance"):
        (options,) = nested(r.body, "metadata_options")
        assert options["http_tokens"] == "required", r.address
        assert options["http_endpoint"] == "enabled"


def test_node_volumes_are_encrypted_gp3() -> None:
    (template,) = resources("aws_launch_template")
    (mapping,) = nested(template.body, "block_device_mappings")
    (ebs,) = nested(mapping, "ebs")
    assert ebs["encrypted"] is True and ebs["volume_type"] == "gp3"
    (instance,) = resources("aws_instance")
    # The template alone sets it: the block on the instance breaks `resolve:ssm:` AMIs.
    assert not nested(instance.body, "root_block_device")


def test_node_launches_from_the_ssm_ami_parameter() -> None:
    (template,) = resources("aws_launch_template")
    assert template.body["image_id"] == "resolve:ssm:${var.ami_parameter_name}"
    assert template.body["instance_initiated_shutdown_behavior"] == "stop"
    # Each env its own (a dev bake moves dev alone, .github/workflows/bake.yml); prod's is
    # the one Packer writes by default.
    names = {env_file.stem: load(env_file)["ami_parameter_name"] for env_file in ENV_FILES}
    assert names["prod"] == "/tl-fif/latest_ami_id" and names["dev"] == "/tl-fif-dev/latest_ami_id"


def test_node_role_may_stop_only_this_instance() -> None:
    """One role for N nodes: a node may stop an instance only if it is the caller itself
    (ADR 0032)."""
    text = (INFRA / "modules" / "node" / "main.tf").read_text()
    stop = re.search(r'sid\s+= "StopSelf"(.*?)\n  \}\n\}', text, re.S)
    assert stop, "the self-stop statement is missing"
    assert 'test     = "ArnEquals"' in stop.group(1)
    assert 'variable = "ec2:SourceInstanceARN"' in stop.group(1)
    assert ':instance/$${ec2:InstanceID}"]' in stop.group(1)
    assert text.count("ec2:StopInstances") == 1


def test_node_count_max_makes_that_many_nodes_and_reaches_the_scale_out_settings() -> None:
    node = module_calls()["node"]
    assert node["node_count"] == "${var.node_count_max}"
    (instance,) = resources("aws_instance")
    assert instance.body["count"] == "${var.node_count}"
    (state,) = resources("aws_ec2_instance_state")
    assert state.body["count"] == "${var.node_count}"
    common = next(b["common_env"] for b in load(INFRA / "main.tf")["locals"] if "common_env" in b)
    assert common["TLFIF_NODE_COUNT_MAX"] == "${tostring(var.node_count_max)}"
    assert common["TLFIF_SCALE_OUT_BACKLOG"] == "${tostring(var.scale_out_backlog)}"
    # Each node idles out by itself: the idle-miss alarm is per instance.
    alarms = {r.name: r.body for r in resources("aws_cloudwatch_metric_alarm")}
    assert alarms["idle_miss"]["count"] == "${length(var.instance_ids)}"
    assert module_calls()["observability"]["instance_ids"] == "${module.node.instance_ids}"


def test_lambda_ec2_start_stop_is_limited_by_the_node_tag() -> None:
    text = (INFRA / "modules" / "lambdas" / "iam.tf").read_text()
    block = re.search(r'sid\s+= "StartStopTaggedNodeOnly"(.*?)\n    \}\n  \}', text, re.S)
    assert block, "the start/stop statement is missing"
    assert 'variable = "aws:ResourceTag/${var.node_tag_key}"' in block.group(1)
    assert "instance/*" in text
    # No other statement grants start or stop.
    assert text.count('"ec2:StartInstances"') == 2  # router, scheduled_check, in the one map
    assert all(
        "ec2:StartInstances" not in (INFRA / "modules" / m / "main.tf").read_text()
        for m in ("api", "schedule", "budgets", "observability")
    )


# --- Redis -------------------------------------------------------------------------------


def test_redis_never_evicts_queued_jobs() -> None:
    (group,) = resources("aws_elasticache_parameter_group")
    params = {p["name"]: p["value"] for p in nested(group.body, "parameter")}
    assert params["maxmemory-policy"] == "noeviction"
    (replication,) = resources("aws_elasticache_replication_group")
    assert "aws_elasticache_parameter_group.noeviction" in replication.body["parameter_group_name"]
    # Serverless evicts TTL'd keys (every job) only at a data-storage maximum: none is set.
    (serverless,) = resources("aws_elasticache_serverless_cache")
    (limits,) = nested(serverless.body, "cache_usage_limits")
    assert "data_storage" not in limits
    assert serverless.body["engine"] == "${local.engine}"


def test_redis_uses_tls_and_acl_auth() -> None:
    (replication,) = resources("aws_elasticache_replication_group")
    assert replication.body["transit_encryption_enabled"] is True
    assert replication.body["at_rest_encryption_enabled"] is True
    assert replication.body["user_group_ids"]
    (serverless,) = resources("aws_elasticache_serverless_cache")
    assert serverless.body["user_group_id"]
    users = {r.name: r.body for r in resources("aws_elasticache_user")}
    assert users["default_off"]["access_string"].startswith("off")
    outputs = load(INFRA / "modules" / "redis" / "outputs.tf")["output"]
    url = next(o["url"] for o in outputs if "url" in o)
    assert url["value"].startswith("rediss://") and url["sensitive"] is True
    text = (INFRA / "modules" / "redis" / "main.tf").read_text()
    assert 'engine   = "valkey"' in text
    assert "~{tlfif}:*" in text, "the ACL user may touch only the hash-tagged keys"


# --- Lambdas and API ---------------------------------------------------------------------


def lambda_functions() -> dict[str, dict[str, Any]]:
    for block in load(INFRA / "main.tf")["locals"]:
        if "lambda_functions" in block:
            return dict(block["lambda_functions"])
    raise AssertionError("no lambda_functions in infra/main.tf")


def stream_functions() -> dict[str, dict[str, Any]]:
    for block in load(INFRA / "main.tf")["locals"]:
        if "stream_functions" in block:
            return dict(block["stream_functions"])
    raise AssertionError("no stream_functions in infra/main.tf")


def test_each_lambda_zip_and_handler_exists_in_the_repo() -> None:
    functions = lambda_functions()
    assert {"router", "queue_health", "scheduled_check", "budget_killer", "cost_publisher"} <= set(
        functions
    )
    for name, spec in functions.items():
        module, attribute = spec["handler"].rsplit(".", 1)
        source = REPO / (module.replace(".", "/") + ".py")
        assert source.is_file(), f"{name}: {source} missing"
        assert f"def {attribute}(" in source.read_text(), f"{name}: no {attribute}() in {source}"
    (function,) = resources("aws_lambda_function")
    # A function that `runs` another's code takes that one's zip (ADR 0028).
    assert function.body["filename"] == "${var.zip_dir}/${local.code_of[each.key]}.zip"
    assert function.body["publish"] is True
    assert function.body["runtime"] == "python3.12"
    for name, spec in stream_functions().items():
        script = REPO / spec["handler"]  # the Lambda Web Adapter's wrapper execs it
        assert script.is_file() and os.access(script, os.X_OK), f"{name}: {script}"
        assert spec["runs"] in functions, name


def test_callers_invoke_the_prod_alias_only() -> None:
    (alias,) = resources("aws_lambda_alias")
    assert alias.body["name"] == "prod"
    for permission in resources("aws_lambda_permission"):
        assert permission.body["qualifier"] == "prod", permission.address
    calls = module_calls()
    assert "alias_invoke_arns" in calls["api"]["router_invoke_arn"]
    assert "alias_arns" in calls["budgets"]["budget_killer_alias_arn"]
    assert "alias_arns" in calls["schedule"]["scheduled_check_alias_arn"]


def _settings_fields() -> dict[str, set[str]]:
    from tlfif import settings

    found: dict[str, set[str]] = {}
    for cls in vars(settings).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, settings.StrictSettings)
            and cls is not settings.StrictSettings
        ):
            prefix = str(cls.model_config.get("env_prefix", "")).upper()
            found[prefix] = {f.upper() for f in cls.model_fields}
    return found


def _known_setting(name: str, fields: dict[str, set[str]]) -> bool:
    prefix = max((p for p in fields if name.startswith(p)), key=len)
    return name[len(prefix) :] in fields[prefix]


def test_every_tlfif_variable_passed_is_a_known_setting() -> None:
    """A misspelled name would stop the Lambda or the watcher at start (ADR 0004)."""
    fields = _settings_fields()
    text = (INFRA / "main.tf").read_text() + (REPO / "packer" / "files" / "watcher.env").read_text()
    names = set(re.findall(r"\b(TLFIF_[A-Z_]+)\s*=", text)) | {"TLFIF_REDIS_URL"}
    assert {
        "TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS",
        "TLFIF_ROUTER_COGNITO_ISSUER",
        "TLFIF_BUCKET",
    } <= names
    for name in names:
        assert _known_setting(name, fields), f"{name} is no setting in tlfif/settings.py"


def test_router_gets_the_settings_it_needs() -> None:
    env = lambda_functions()["router"]["env"]
    assert env["TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS"] == "true"
    assert "module.identity.issuer" in env["TLFIF_ROUTER_COGNITO_ISSUER"]
    assert "module.identity.client_ids" in env["TLFIF_ROUTER_CLIENT_IDS"]
    common = next(b["common_env"] for b in load(INFRA / "main.tf")["locals"] if "common_env" in b)
    assert {"TLFIF_BUCKET", "TLFIF_REGION", "TLFIF_REDIS_CLUSTER"} <= set(common)
    lambdas_main = (INFRA / "modules" / "lambdas" / "main.tf").read_text()
    assert "TLFIF_REDIS_URL = var.redis_url" in lambdas_main


def _route_keys() -> dict[str, dict[str, Any]]:
    routes: dict[str, dict[str, Any]] = {}
    for block in load(INFRA / "modules" / "api" / "main.tf")["locals"]:
        routes.update({k: {"auth": v} for k, v in block.get("router_routes", {}).items()})
    return routes


def test_routes_match_the_openapi_contract_and_its_security() -> None:
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text())
    routes = _route_keys()
    routes["GET /queue-health"] = {"auth": False}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "options":  # preflights: OPTIONS /{proxy+}, asserted below
                continue
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            key = f"{method.upper()} {path}"
            assert key in routes, f"{key} is in openapi.yaml but not routed"
            open_route = operation.get("security", spec.get("security")) == []
            assert routes[key]["auth"] is (not open_route), key
    assert routes["OPTIONS /{proxy+}"]["auth"] is False


def test_no_gateway_cors_and_a_jwt_authorizer() -> None:
    (api,) = resources("aws_apigatewayv2_api")
    assert "cors_configuration" not in api.body
    (authorizer,) = resources("aws_apigatewayv2_authorizer")
    assert authorizer.body["authorizer_type"] == "JWT"
    (jwt,) = nested(authorizer.body, "jwt_configuration")
    assert jwt["issuer"] == "${var.issuer}" and jwt["audience"] == "${var.client_ids}"


def dynamic_blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The `dynamic "name"` blocks of a resource body: their for_each and content."""
    return [block[name] for block in body.get("dynamic", []) if name in block]


def test_stage_throttles_and_logs_json_to_apigw_tl_fif_where_asked() -> None:
    (stage,) = resources("aws_apigatewayv2_stage")
    (settings,) = nested(stage.body, "default_route_settings")
    assert settings["throttling_burst_limit"] and settings["throttling_rate_limit"]
    (logs,) = dynamic_blocks(stage.body, "access_log_settings")
    assert logs["for_each"] == "${var.access_log ? [1] : []}"
    fmt = logs["content"][0]["format"]
    for field in ("requestId", "ip", "route", "status", "latencyMs"):
        assert field in fmt
    assert module_calls()["api"]["access_log_group_name"] == "/apigw/${local.name}"
    main = load(INFRA / "main.tf")["locals"][0]
    assert main["name"] == '${var.environment == "prod" ? "tl-fif" : "tl-fif-${var.environment}"}'


def test_identity_has_no_self_sign_up_and_a_fixed_loopback_callback() -> None:
    (pool,) = resources("aws_cognito_user_pool")
    (admin,) = nested(pool.body, "admin_create_user_config")
    assert admin["allow_admin_create_user_only"] is True
    clients = {r.name: r.body for r in resources("aws_cognito_user_pool_client")}
    assert clients["desktop"]["allowed_oauth_flows"] == ["code"]
    assert clients["desktop"]["generate_secret"] is False
    text = (INFRA / "modules" / "identity" / "main.tf").read_text()
    assert 'callback_url = "http://localhost:${var.desktop_callback_port}/callback"' in text
    assert "ALLOW_USER_PASSWORD_AUTH" in clients["cli"]["explicit_auth_flows"]


def test_the_chat_page_client_returns_to_the_page_at_the_apis_own_endpoint() -> None:
    page = {r.name: r.body for r in resources("aws_cognito_user_pool_client")}["chat_page"]
    assert page["allowed_oauth_flows"] == ["code"] and page["generate_secret"] is False
    assert page["callback_urls"] == page["logout_urls"] == ["${var.chat_page_url}"]
    # The API resource's endpoint, not its stage's URL: known before the authorizer that
    # names this client, so the two do not wait on each other (ADR 0026).
    assert module_calls()["identity"]["chat_page_url"] == "${module.api.api_endpoint}/"
    api_outputs = (INFRA / "modules" / "api" / "outputs.tf").read_text()
    assert "value       = aws_apigatewayv2_api.this.api_endpoint" in api_outputs
    env = lambda_functions()["router"]["env"]
    assert "module.identity.chat_page_client_id" in env["TLFIF_ROUTER_CHAT_CLIENT_ID"]
    assert "module.identity.hosted_ui_domain" in env["TLFIF_ROUTER_CHAT_HOSTED_UI"]


# --- Budgets, schedule, observability ----------------------------------------------------


def test_budget_warns_by_mail_and_stops_through_sns() -> None:
    (budget,) = resources("aws_budgets_budget")
    notes = nested(budget.body, "notification")
    assert len(notes) == 2
    warn, stop = notes
    assert warn["subscriber_email_addresses"] and "subscriber_sns_topic_arns" not in warn
    assert stop["threshold"] == 100 and stop["subscriber_sns_topic_arns"]
    subs = {r.name: r.body for r in resources("aws_sns_topic_subscription")}
    assert subs["budget_killer"]["protocol"] == "lambda"


def test_alarms_per_route_and_an_idle_miss_safety_net() -> None:
    alarms = {r.name: r.body for r in resources("aws_cloudwatch_metric_alarm")}
    assert {"latency", "long_poll", "idle_miss"} <= set(alarms)
    assert alarms["long_poll"]["dimensions"]["Resource"] == "/result/{id}"
    text = (INFRA / "modules" / "observability" / "main.tf").read_text()
    assert "long_poll_ms = (var.long_poll_seconds + 2) * 1000" in text
    assert "arn:aws:automate:${var.region}:ec2:stop" in alarms["idle_miss"]["alarm_actions"]
    assert alarms["idle_miss"]["treat_missing_data"] == "notBreaching"


# ADR 0033: name -> (metric, its missing-data rule). Each watches one metric (billed per metric).
BROKEN_ALARMS = {
    "queue_health": ("QueueHealthFailed", "notBreaching"),
    "spend_silent": ("CurrentSpendEUR", "breaching"),
    "api_5xx": ("5xx", "notBreaching"),
    "router_throttles": ("Throttles", "notBreaching"),
    "nodes_silent": ("NodesSilent", "notBreaching"),
    "ping_dead": ("PingOk", "breaching"),
}


def test_the_alarms_that_say_it_is_broken() -> None:
    alarms = {r.name: r for r in resources("aws_cloudwatch_metric_alarm")}
    observability = INFRA / "modules" / "observability"
    text = "\n".join(path.read_text() for path in observability.glob("*.tf"))
    for name, (metric, missing) in BROKEN_ALARMS.items():
        body = alarms[name].body
        assert body["treat_missing_data"] == missing, name
        assert body["alarm_actions"] == ["${var.alerts_topic_arn}"], name
        assert "metric_query" not in body, f"{name}: one metric, not metric math"
        assert metric in (body["metric_name"] + text), name
        # The runbook line: what it means, then what to do first.
        assert "First:" in body["alarm_description"], name
        assert f"aws_cloudwatch_metric_alarm.{name}," in text, f"{name} not in alarm_names"
        # docs/operations.md's alarm table names it as prod does.
        shown = body["alarm_name"].replace("${var.name}", "tl-fif")
        assert f"`{shown}`" in (REPO / "docs" / "operations.md").read_text(), shown


def test_the_probe_runs_outside_the_vpc_each_minute_and_the_bill_knows() -> None:
    from tlfif_cli.bill_model import PROBE_MINUTES

    probe = lambda_functions()["ping_check"]
    assert probe["in_vpc"] is False and probe["tracing"] == "PassThrough"
    assert set(probe["env"]) == {"TLFIF_PING_URL", "TLFIF_PING_QUEUE_HEALTH_URL"}
    assert probe["env"]["TLFIF_PING_URL"] == "${module.api.api_endpoint}/ping"
    root = next(b for b in load(INFRA / "main.tf")["locals"] if "ping_check_minutes" in b)
    assert root["ping_check_minutes"] == PROBE_MINUTES
    schedule = load(INFRA / "modules" / "schedule" / "main.tf")["locals"][0]["schedules"]
    assert "ping_check" in schedule


def test_the_deploy_role_trusts_only_the_repositorys_branch_and_tags() -> None:
    module = INFRA / "modules" / "deploy_identity"
    data = [b for _, b in blocks("data", [module / "main.tf"]) if "aws_iam_policy_document" in b]
    (trust,) = [b["aws_iam_policy_document"]["trust"] for b in data]
    (statement,) = nested(trust, "statement")
    conditions = {c["variable"]: c for c in nested(statement, "condition")}
    aud = conditions["${local.token_host}:aud"]
    assert (aud["test"], aud["values"]) == ("StringEquals", ["sts.amazonaws.com"])
    assert conditions["${local.token_host}:sub"]["test"] == "StringLike"
    main = load(module / "main.tf")["locals"][0]
    subjects = str(main["subjects"])
    assert "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}" in subjects
    assert "repo:${var.github_repository}:ref:refs/tags/v*" in subjects
    assert main["token_host"] == "token.actions.githubusercontent.com"
    (provider,) = resources("aws_iam_openid_connect_provider")
    assert provider.body["client_id_list"] == ["sts.amazonaws.com"]
    assert provider.body["count"] == "${local.create_provider ? 1 : 0}"
    outputs = {name for _, block in blocks("output", [INFRA / "outputs.tf"]) for name in block}
    assert "deploy_role_arn" in outputs


def test_dashboard_shows_what_the_issue_lists() -> None:
    text = (INFRA / "modules" / "observability" / "main.tf").read_text()
    for metric in (
        "nvidia_smi_utilization_gpu",
        "nvidia_smi_memory_used",
        "QueueDepth",
        '"Latency"',
        "CurrentSpendEUR",
    ):
        assert metric in text


def test_outputs_of_the_issue() -> None:
    outputs = {name for _, block in blocks("output", [INFRA / "outputs.tf"]) for name in block}
    assert {"api_url", "dashboard_url", "redis_endpoint", "ping_url"} <= outputs


# --- Tags --------------------------------------------------------------------------------


def test_default_tags_reach_every_resource() -> None:
    providers = [p for path in tf_files() for p in load(path).get("provider", [])]
    assert len(providers) == 1, "one provider block, in the root: modules inherit it"
    (aws,) = nested(providers[0], "aws")
    (default_tags,) = nested(aws, "default_tags")
    assert default_tags["tags"] == "${local.tags}"
    tags = next(b["tags"] for b in load(INFRA / "main.tf")["locals"] if "tags" in b)
    assert {"project", "environment"} <= set(tags)
    # What EC2 creates from the template at launch gets them explicitly.
    (template,) = resources("aws_launch_template")
    specs = nested(template.body, "tag_specifications")
    assert {s["resource_type"] for s in specs} >= {"instance", "volume"}
    assert all("data.aws_default_tags.this.tags" in str(s["tags"]) for s in specs)


def test_every_resource_with_a_name_tag_names_itself() -> None:
    untaggable = {
        "aws_route_table_association",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_policy",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_lambda_permission",
        "aws_lambda_alias",
        "aws_apigatewayv2_authorizer",
        "aws_apigatewayv2_integration",
        "aws_apigatewayv2_route",
        "aws_cloudwatch_event_target",
        "aws_sns_topic_policy",
        "aws_sns_topic_subscription",
        "aws_cognito_user_pool_domain",
        "aws_cognito_user_pool_client",
        "aws_cloudwatch_dashboard",
        "aws_cloudwatch_query_definition",  # saved Logs Insights queries take no tags
        "aws_budgets_budget",
        "aws_ec2_instance_state",
        "aws_config_configuration_recorder",
        "aws_config_configuration_recorder_status",
        "aws_config_delivery_channel",
        "aws_default_security_group",
        "aws_elasticache_user_group",
        "aws_cognito_user_group",
        "aws_lambda_function_url",  # the URL and its permission take no tags (ADR 0028)
        "aws_cloudcontrolapi_resource",
        "aws_s3_bucket_notification",
    }
    for r in resources():
        if r.type in untaggable:
            continue
        assert "Name" in str(r.body.get("tags", "")), f"{r.address} has no Name tag"


def test_bill_model_counts_the_alarms_infra_creates() -> None:
    from tlfif_cli.bill_model import Deployment, _alarms

    locals_ = load(INFRA / "modules" / "observability" / "main.tf")["locals"][0]
    broken = load(INFRA / "modules" / "observability" / "broken.tf")["resource"]
    created = len(locals_["short_routes"]) + 1 + len(locals_["guarded_functions"]) + len(broken)
    for nodes in (1, 3):  # an idle-miss alarm per node
        assert _alarms(Deployment(redis_mode="serverless", node_count_max=nodes)) == created + nodes


def test_every_route_without_a_token_has_a_throttle_of_its_own() -> None:
    (stage,) = resources("aws_apigatewayv2_stage")
    (routes,) = dynamic_blocks(stage.body, "route_settings")
    assert routes["for_each"] == "${toset(local.open_routes)}"
    api = load(INFRA / "modules" / "api" / "main.tf")["locals"][0]
    assert "$default" not in api["router_routes"], "a $default route runs the router for any path"
    open_routes = [key for key, needs_token in api["router_routes"].items() if not needs_token]
    assert sorted(open_routes) == [
        "ANY /api-key/{proxy+}",  # API keys, verified by the router itself (ADR 0027)
        "GET /",
        "GET /ping",
        "GET /static/{name}",
        "OPTIONS /{proxy+}",
    ]


def test_a_stranger_can_cost_the_owner_at_most_one_euro_a_day() -> None:
    """ADR 0021's sum, from prod.tfvars and the price table: every route that takes no token
    at its own throttle, all day, through API Gateway, Lambda and the router's log line.
    A new open route (a chat page, a function URL) must keep this under EUR 1."""
    from tlfif_cli.bill_model import PriceTable

    prod = load(ENVS / "prod.tfvars")
    prices = PriceTable.load()
    assert prod["api_access_log"] is False, "rejected requests would cost log ingestion"
    # GET /ping, OPTIONS, the chat page's two and the API keys' ANY /api-key/{proxy+} (the
    # router), GET /queue-health (queue_health)
    open_routes = 6
    requests_per_day = open_routes * prod["open_route_throttle_rate"] * 86400
    per_request_usd = (
        prices.usd("apigw.http.request_million") / 1e6
        + prices.usd("lambda.request_million") / 1e6
        + prices.usd("lambda.gb_second") * 0.5 * 0.01  # 512 MB for 10 ms, generously
        + prices.usd("cloudwatch.logs_ingest_gb") * 400 / 1e9  # the router's access line
    )
    # ADR 0027: a made-up key of the right shape on /api-key/ misses Redis and reads S3 once
    # (a new key each request defeats the 30 s negative cache): one GET and 40 ms more.
    key_probe_usd = (
        prices.usd("s3.get_thousand") / 1000 + prices.usd("lambda.gb_second") * 0.5 * 0.04
    )
    key_probes_per_day = prod["open_route_throttle_rate"] * 86400
    usd_per_day = requests_per_day * per_request_usd + key_probes_per_day * key_probe_usd
    eur_per_day = usd_per_day / prod["usd_per_eur"]
    assert round(usd_per_day, 2) == 0.97 and round(eur_per_day, 2) == 0.88  # ADR 0027's figure
    assert eur_per_day <= 1.0, f"a stranger can cost EUR {eur_per_day:.2f} a day"


# --- The streaming edge (ADR 0028) ---------------------------------------------------------


def stream_edge_usd_per_day_per_slot() -> float:
    """What a stranger without a token can have billed per day and reserved slot through a
    function URL: at most 10 requests a second per slot (Lambda's per-function rate limit
    is 10 x its concurrency), each a Lambda request, 512 MB for 30 ms (a forged API key's
    S3 read included), the router's 400-byte access line and that S3 GET (ADR 0027)."""
    from tlfif_cli.bill_model import PriceTable

    prices = PriceTable.load()
    per_request_usd = (
        prices.usd("lambda.request_million") / 1e6
        + prices.usd("lambda.gb_second") * 0.5 * 0.03
        + prices.usd("cloudwatch.logs_ingest_gb") * 400 / 1e9
        + prices.usd("s3.get_thousand") / 1e3
    )
    return 10 * 86400 * per_request_usd


def test_the_streaming_edge_is_off_because_no_slot_keeps_a_stranger_under_a_euro() -> None:
    """Even one reserved slot costs more than ADR 0021's euro a day (the figure in ADR 0028),
    so both envs leave the edge off and `tlfif cost` counts nothing for it."""
    eur_per_slot = stream_edge_usd_per_day_per_slot() / load(ENVS / "prod.tfvars")["usd_per_eur"]
    assert round(eur_per_slot, 2) == 0.89, eur_per_slot
    assert eur_per_slot > 1.0 - 0.88  # ADR 0021's figure for the gateway's open routes (0027)
    for env_file in ENV_FILES:
        values = load(env_file)
        assert values["router_stream_edge"] is False, env_file.name
        assert values["router_stream_reserved_concurrency"] >= 1, "unreserved is unbounded"


def test_the_streaming_edge_is_the_router_verifying_tokens_behind_a_streamed_url() -> None:
    (spec,) = stream_functions().values()
    env = spec["env"]
    assert "local.lambda_functions.router.env" in env  # the router's settings, then these
    assert '"false"' in env and '"response_stream"' in env and '"/opt/bootstrap"' in env
    assert spec["reserved"] == "${var.router_stream_reserved_concurrency}"
    (url,) = resources("aws_lambda_function_url")
    assert (url.body["authorization_type"], url.body["invoke_mode"]) == ("NONE", "RESPONSE_STREAM")
    assert url.body["qualifier"] == "prod"
    (grant,) = resources("aws_cloudcontrolapi_resource")
    state = grant.body["desired_state"]
    # lambda:InvokeFunction to "*" only through the URL: without the condition any AWS
    # account could invoke the function directly.
    assert "InvokedViaFunctionUrl = true" in state and "lambda:InvokeFunction" in state
    assert "qualifier" not in grant.body and "aws_lambda_alias.prod" in state
