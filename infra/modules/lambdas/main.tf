# The Lambdas: router, queue_health, scheduled_check, budget_killer, cost_publisher,
# webhook_sender (outside the VPC: it posts to receivers on the internet) and ping_check
# (outside the VPC: it calls the public API as a client does, ADR 0033), each from
# dist/lambda/<name>.zip (`make lambda-package`). Every deploy publishes a version; callers
# (API Gateway, EventBridge, SNS) invoke the `prod` alias only, so a roll-back is moving the
# alias (var.lambda_pinned_versions, or `aws lambda update-alias` at once). Versions beyond
# the last five are deleted by infra/scripts/prune.py lambda (README "Deploy").

data "aws_region" "this" {}
data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

locals {
  region    = data.aws_region.this.name
  account   = data.aws_caller_identity.this.account_id
  partition = data.aws_partition.this.partition
  # botocore reads AWS_USE_DUALSTACK_ENDPOINT: EC2 and S3 are then reached over IPv6 through
  # the egress-only gateway, with no NAT and no interface endpoint (ADR 0011).
  network_env = var.dualstack ? { AWS_USE_DUALSTACK_ENDPOINT = "true" } : {}
  # A function that `runs` another's code (the router under the Lambda Web Adapter, ADR
  # 0028) shares its zip, role and log group: one policy to keep, one place for its logs.
  code_of = { for k, f in var.functions : k => coalesce(f.runs, k) }
  owners  = { for k, f in var.functions : k => f if f.runs == null }
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a CMK costs USD 1/month (ADR 0010)
  for_each = local.owners

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_115:reserved concurrency is set where it bounds a stranger (the router, ADR 0021); an account at the default quota of 10 cannot reserve any, and the guards run on schedules
  # checkov:skip=CKV_AWS_116:a failed async run is mailed by the lambda-errors alarm; a DLQ nobody reads adds nothing
  # checkov:skip=CKV_AWS_173:Lambda encrypts variables at rest with its own key; a CMK costs USD 1/month and adds a KMS call to every cold start
  # checkov:skip=CKV_AWS_272:code signing needs a Signer profile per deploy; the zips are built and deployed by the same owner
  # checkov:skip=CKV_AWS_50:ping_check and queue_health run each minute and are not traced (a trace of one GET or one PING tells nothing the metric does not; 87,600 traces a month would pass X-Ray's free 100k, ADR 0033); every other function is
  # checkov:skip=CKV_AWS_117:webhook_sender and ping_check alone run outside the VPC: one posts webhooks to receivers on the internet (ADR 0031), the other calls the public API as a client would (ADR 0033), which no VPC path here reaches; every other function is in it
  for_each = var.functions

  function_name    = "${var.name}-${each.key}"
  description      = "TL-FIF ${each.key}"
  role             = aws_iam_role.this[local.code_of[each.key]].arn
  runtime          = "python3.12"
  architectures    = [var.architecture]
  handler          = each.value.handler
  layers           = each.value.layers
  filename         = "${var.zip_dir}/${local.code_of[each.key]}.zip"
  source_code_hash = filebase64sha256("${var.zip_dir}/${local.code_of[each.key]}.zip")
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout_s
  publish          = true
  # The most invocations of this function at once (-1: unreserved). On the router it bounds
  # what a flood can run up; each long poll holds a slot for up to 25 s (ADR 0021).
  reserved_concurrent_executions = each.value.reserved

  environment {
    variables = merge(
      var.common_env,
      each.value.in_vpc ? { TLFIF_REDIS_URL = var.redis_url } : {},
      each.value.in_vpc ? local.network_env : {},
      {
        POWERTOOLS_SERVICE_NAME      = each.key
        POWERTOOLS_METRICS_NAMESPACE = "TLFIF"
      },
      each.value.env,
    )
  }

  dynamic "vpc_config" {
    for_each = each.value.in_vpc ? [1] : []
    content {
      subnet_ids                  = var.subnet_ids
      security_group_ids          = [var.security_group_id]
      ipv6_allowed_for_dual_stack = var.dualstack
    }
  }

  tracing_config {
    # X-Ray's always-free 100k traces a month cover this traffic; the probe and the queue
    # check it calls each minute (87,600 runs a month) pass through untraced (ADR 0033).
    mode = each.value.tracing
  }

  logging_config {
    log_format = "Text" # the code writes its own JSON lines and EMF
    log_group  = aws_cloudwatch_log_group.this[local.code_of[each.key]].name
  }

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_lambda_alias" "prod" {
  for_each = var.functions

  name             = "prod"
  description      = "What callers invoke; moved by deploys and roll-backs"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = lookup(var.pinned_versions, each.key, aws_lambda_function.this[each.key].version)
}

# The seed's /tl-fif/lambda_prod_version, for operators: which version each alias serves.
resource "aws_ssm_parameter" "prod_versions" {
  # checkov:skip=CKV_AWS_337:AWS-managed aws/ssm key; nothing secret in a version number
  name  = var.version_parameter_name
  type  = "SecureString"
  value = jsonencode({ for k, a in aws_lambda_alias.prod : k => a.function_version })

  tags = { Name = "lambda-prod-versions" }
}
