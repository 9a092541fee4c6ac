# TL-FIF on AWS: the root module wires the modules together. What it costs: `tlfif cost`
# (reads envs/<env>.tfvars); why it is built this way: docs/adr/0010-0017.

locals {
  # prod keeps the seed's names (/apigw/tl-fif, /tl-fif/..., env=tinyllama); dev gets its
  # own, so both can live in one account without touching each other's node or queue.
  name           = var.environment == "prod" ? "tl-fif" : "tl-fif-${var.environment}"
  node_tag_key   = "env"
  node_tag_value = var.environment == "prod" ? "tinyllama" : "tinyllama-${var.environment}"
  ready_prefix   = "/${local.name}/ready/"
  budget_name    = "${local.name}-monthly"
  # The uptime probe runs each minute: "twice in 5 minutes" then means what it says (ADR 0033).
  ping_check_minutes = 1

  tags = {
    project     = "tl-fif"
    environment = var.environment
    managed-by  = "opentofu"
  }

  # TLFIF_* that the router, the guard Lambdas and the node share (tlfif/settings.py).
  common_env = {
    TLFIF_REDIS_CLUSTER  = tostring(module.redis.cluster)
    TLFIF_BUCKET         = module.storage.replies_bucket
    TLFIF_REGION         = var.region
    TLFIF_NODE_TAG_KEY   = local.node_tag_key
    TLFIF_NODE_TAG_VALUE = local.node_tag_value
    # Scale-out (ADR 0032): at most this many nodes awake, another started once the queue
    # holds more than the backlog per node that beats.
    TLFIF_NODE_COUNT_MAX    = tostring(var.node_count_max)
    TLFIF_SCALE_OUT_BACKLOG = tostring(var.scale_out_backlog)
  }

  lambda_functions = {
    router = {
      handler   = "router.handler.handler"
      reserved  = var.router_reserved_concurrency
      memory_mb = var.router_memory_mb
      timeout_s = 30
      in_vpc    = true
      env = {
        TLFIF_ROUTER_COGNITO_ISSUER       = module.identity.issuer
        TLFIF_ROUTER_CLIENT_IDS           = join(",", module.identity.client_ids)
        TLFIF_ROUTER_CHAT_HOSTED_UI       = module.identity.hosted_ui_domain # the page's PKCE sign-in
        TLFIF_ROUTER_CHAT_CLIENT_ID       = module.identity.chat_page_client_id
        TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS = "true"
        TLFIF_ROUTER_MAX_WAIT_SECONDS     = tostring(var.router_max_wait_seconds)
        # API Gateway's HTTP API buffers every response: a stream: true request is held as
        # an unstreamed one and its events sent at once, marked x-tlfif-stream: buffered
        # (router/v1/stream.py); the opt-in edge below streams (ADR 0028).
        TLFIF_ROUTER_V1_STREAM_LIVE = "false"
      }
    }
    # ADR 0033: the uptime probe, outside the VPC as a client is; GETs the public /ping and
    # /queue-health each minute and publishes PingOk.
    ping_check = {
      handler   = "ping_check.handler.handler"
      memory_mb = 128
      timeout_s = 10
      in_vpc    = false
      tracing   = "PassThrough"
      env = {
        TLFIF_PING_URL              = "${module.api.api_endpoint}/ping"
        TLFIF_PING_QUEUE_HEALTH_URL = "${module.api.api_endpoint}/queue-health"
      }
    }
    queue_health = {
      handler   = "queue_health.handler.handler"
      memory_mb = 256
      timeout_s = 5
      in_vpc    = true
      tracing   = "PassThrough" # run each minute by ping_check (ADR 0033)
      env       = {}
    }
    scheduled_check = {
      handler   = "scheduled_check.handler.handler"
      memory_mb = 256
      timeout_s = 60
      in_vpc    = true
      env       = {}
    }
    budget_killer = {
      handler   = "budget_killer.handler.handler"
      memory_mb = 256
      timeout_s = 30
      in_vpc    = true
      env       = { TLFIF_BUDGET_NAME = local.budget_name }
    }
    # Reads the budget's spend (free) every run and Cost Explorer (USD 0.01 a request) at
    # most every cost_publish_hours; stores the figure in Redis for GET /cost.
    cost_publisher = {
      handler   = "cost_publisher.handler.handler"
      memory_mb = 256
      timeout_s = 10
      in_vpc    = true
      env = {
        TLFIF_COST_BUDGET_NAME                 = local.budget_name
        TLFIF_COST_EXPLORER_MIN_INTERVAL_HOURS = tostring(var.cost_publish_hours)
        TLFIF_COST_USD_TO_EUR                  = format("%.4f", 1 / var.usd_per_eur)
      }
    }
    # Run by the replies bucket for each reply (ADR 0031): publishes it to the replies topic,
    # then posts the signed webhook the request named. Outside the VPC: receivers are on the
    # internet, and it needs no Redis (S3 and SNS are public endpoints).
    webhook_sender = {
      handler   = "webhook_sender.handler.handler"
      memory_mb = 256
      timeout_s = 60
      in_vpc    = false
      env       = { TLFIF_SENDER_TOPIC_ARN = module.reply_events.topic_arn }
    }
  }
}

locals {
  # ADR 0028, off unless var.router_stream_edge: the router's code, role and log group run by
  # the Lambda Web Adapter (a layer and an exec wrapper) as the same ASGI app uvicorn serves
  # locally, behind a function URL that streams. No gateway verifies tokens in front of it,
  # so the router does (JWKS cached); a stream lasts at most router_stream_seconds.
  router_stream_seconds = 300
  stream_functions = {
    router_stream = {
      runs         = "router"
      handler      = "router/lambda_stream.sh"
      layers       = [var.lambda_web_adapter_layer_arn]
      function_url = true
      reserved     = var.router_stream_reserved_concurrency
      memory_mb    = var.router_memory_mb
      timeout_s    = local.router_stream_seconds + 10
      in_vpc       = true
      env = merge(local.lambda_functions.router.env, {
        TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS = "false"
        TLFIF_ROUTER_V1_STREAM_LIVE       = "true"
        TLFIF_ROUTER_V1_STREAM_SECONDS    = tostring(local.router_stream_seconds)
        AWS_LAMBDA_EXEC_WRAPPER           = "/opt/bootstrap"
        AWS_LWA_INVOKE_MODE               = "response_stream"
        AWS_LWA_PORT                      = "8080"
        AWS_LWA_READINESS_CHECK_PATH      = "/ping"
      })
    }
  }
  enabled_stream_functions = { for k, f in local.stream_functions : k => f if var.router_stream_edge }
}

module "network" {
  source = "./modules/network"

  name               = local.name
  region             = var.region
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  router_ec2_path    = var.router_ec2_path
}

module "storage" {
  source = "./modules/storage"

  name                    = local.name
  replies_retention_days  = var.replies_retention_days
  noncurrent_version_days = var.noncurrent_version_days
}

module "identity" {
  source = "./modules/identity"

  name                  = local.name
  domain_prefix         = var.cognito_domain_prefix
  desktop_callback_port = var.desktop_callback_port
  access_token_minutes  = var.access_token_minutes
  mfa_required          = var.mfa_required
  # The API's $default stage serves at its endpoint's root (ADR 0026: why this is no cycle).
  chat_page_url = "${module.api.api_endpoint}/"
}

module "redis" {
  source = "./modules/redis"

  name                = local.name
  mode                = var.redis_mode
  node_type           = var.redis_node_type
  node_replicas       = var.redis_node_replicas
  max_ecpu_per_second = var.redis_max_ecpu_per_second
  subnet_ids          = module.network.private_subnet_ids
  security_group_id   = module.network.redis_security_group_id
}

module "node" {
  source = "./modules/node"

  name               = local.name
  node_count         = var.node_count_max
  instance_type      = var.node_instance_type
  subnet_id          = module.network.public_subnet_ids[var.node_subnet_index]
  security_group_id  = module.network.node_security_group_id
  root_volume_gb     = var.node_root_volume_gb
  ami_parameter_name = var.ami_parameter_name
  node_tag_key       = local.node_tag_key
  node_tag_value     = local.node_tag_value
  replies_bucket_arn = module.storage.replies_bucket_arn
  models_bucket_arn  = module.storage.models_bucket_arn
  redis_url          = module.redis.url
  log_retention_days = var.log_retention_days
  node_env = merge(local.common_env, {
    TLFIF_WATCHER_READY_PARAMETER_PREFIX = local.ready_prefix
  })
}

module "lambdas" {
  source = "./modules/lambdas"

  name                   = local.name
  functions              = merge(local.lambda_functions, local.enabled_stream_functions)
  common_env             = local.common_env
  redis_url              = module.redis.url
  zip_dir                = "${path.root}/${var.lambda_zip_dir}"
  architecture           = var.lambda_architecture
  pinned_versions        = var.lambda_pinned_versions
  subnet_ids             = module.network.private_subnet_ids
  security_group_id      = module.network.lambda_security_group_id
  dualstack              = var.router_ec2_path == "dualstack"
  replies_bucket_arn     = module.storage.replies_bucket_arn
  reply_topic_arn        = module.reply_events.topic_arn
  node_tag_key           = local.node_tag_key
  node_tag_value         = local.node_tag_value
  log_retention_days     = var.log_retention_days
  version_parameter_name = "/${local.name}/lambda_prod_version"
}

module "reply_events" {
  source = "./modules/reply_events"

  name                 = local.name
  email                = var.reply_topic_email
  bucket_id            = module.storage.replies_bucket
  bucket_arn           = module.storage.replies_bucket_arn
  sender_function_name = module.lambdas.function_names["webhook_sender"]
  sender_alias_arn     = module.lambdas.alias_arns["webhook_sender"]
}

module "api" {
  source = "./modules/api"

  name                       = local.name
  access_log_group_name      = "/apigw/${local.name}"
  log_retention_days         = var.log_retention_days
  issuer                     = module.identity.issuer
  client_ids                 = module.identity.client_ids
  router_function_name       = module.lambdas.function_names["router"]
  router_invoke_arn          = module.lambdas.alias_invoke_arns["router"]
  queue_health_function_name = module.lambdas.function_names["queue_health"]
  queue_health_invoke_arn    = module.lambdas.alias_invoke_arns["queue_health"]
  throttle_burst             = var.api_throttle_burst
  throttle_rate              = var.api_throttle_rate
  open_route_throttle_burst  = var.open_route_throttle_burst
  open_route_throttle_rate   = var.open_route_throttle_rate
  access_log                 = var.api_access_log
}

module "schedule" {
  source = "./modules/schedule"

  name                          = local.name
  cost_publisher_function_name  = module.lambdas.function_names["cost_publisher"]
  cost_publisher_alias_arn      = module.lambdas.alias_arns["cost_publisher"]
  scheduled_check_function_name = module.lambdas.function_names["scheduled_check"]
  scheduled_check_alias_arn     = module.lambdas.alias_arns["scheduled_check"]
  scheduled_check_minutes       = var.scheduled_check_minutes
  ping_check_function_name      = module.lambdas.function_names["ping_check"]
  ping_check_alias_arn          = module.lambdas.alias_arns["ping_check"]
  ping_check_minutes            = local.ping_check_minutes
}

module "budgets" {
  source = "./modules/budgets"

  name                        = local.name
  owner_email                 = var.owner_email
  budget_eur                  = var.budget_eur
  budget_warning_eur          = var.budget_warning_eur
  usd_per_eur                 = var.usd_per_eur
  budget_killer_function_name = module.lambdas.function_names["budget_killer"]
  budget_killer_alias_arn     = module.lambdas.alias_arns["budget_killer"]
}

module "observability" {
  source = "./modules/observability"

  name              = local.name
  region            = var.region
  api_id            = module.api.api_id
  stage             = module.api.stage
  instance_ids      = module.node.instance_ids
  latency_alarm_ms  = var.latency_alarm_ms
  long_poll_seconds = var.router_max_wait_seconds
  idle_miss_minutes = var.idle_miss_minutes
  alerts_topic_arn  = module.budgets.alerts_topic_arn
  function_names    = module.lambdas.function_names
  redis_mode        = var.redis_mode
  redis_name        = module.redis.name
  # ADR 0033's alarms: each period is its metric's publisher's.
  scheduled_check_minutes = var.scheduled_check_minutes
  ping_check_minutes      = local.ping_check_minutes
}

# ADR 0034: saved Logs Insights queries over the groups that hold the audit events (the
# router's and budget killer's Lambda groups, the node's watcher group) and the access log.
module "audit" {
  source = "./modules/audit"

  name                  = local.name
  access_log_group_name = "/apigw/${local.name}"
  lambda_log_group_names = [
    for f in ["router", "budget_killer"] : "/aws/lambda/${module.lambdas.function_names[f]}"
  ]
  node_log_group_name = module.node.log_groups["watcher"]
}

module "deploy_identity" {
  source = "./modules/deploy_identity"

  name               = local.name
  github_repository  = var.github_repository
  github_branch      = var.github_branch
  github_environment = "" # the workflows name no GitHub environment (.github/workflows)
  oidc_provider_arn  = var.github_oidc_provider_arn
  state_bucket       = var.tofu_state_bucket
  ami_parameter_name = var.ami_parameter_name
}

module "compliance" {
  source = "./modules/compliance"

  name                    = local.name
  enable_cloudtrail       = var.enable_cloudtrail
  enable_config_rules     = var.enable_config_rules
  enable_dr_test          = var.enable_dr_test
  log_retention_days      = var.replies_retention_days
  noncurrent_version_days = var.noncurrent_version_days
  launch_template_id      = module.node.launch_template_id
  node_role_arn           = module.node.role_arn
  ready_parameter_prefix  = local.ready_prefix
  node_tag_key            = local.node_tag_key
  ami_parameter_name      = var.ami_parameter_name
}
