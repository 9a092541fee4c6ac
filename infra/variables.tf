# Every variable here is set in envs/dev.tfvars and envs/prod.tfvars (a test checks it), and
# `tlfif cost` reads the same files, so the bill it prints is the bill of what is deployed.

variable "environment" {
  description = "dev or prod; part of every name."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region; the price table in tlfif/ is for eu-central-1."
  type        = string
}

variable "owner_email" {
  description = "Where budget warnings go (SNS email subscription, confirmed by mail)."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC (the seed's 10.20.0.0/22); AWS adds an IPv6 /56."
  type        = string
}

variable "availability_zones" {
  description = "Two AZs: ElastiCache Serverless wants subnets in at least two."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "router_ec2_path" {
  description = "How Lambdas in the VPC reach the EC2 API: dualstack (IPv6 via an egress-only gateway, free) or endpoint (an interface endpoint, ~USD 8.8/month per AZ). ADR 0011."
  type        = string
  validation {
    condition     = contains(["dualstack", "endpoint"], var.router_ec2_path)
    error_message = "router_ec2_path must be dualstack or endpoint."
  }
}

variable "node_instance_type" {
  description = "The GPU node; g4dn.xlarge (T4, x86_64) is what the AMI is built and checked for."
  type        = string
}

variable "node_count_max" {
  description = "GPU instances made, all tagged as the node and stopped until started; at most this many run at once (ADR 0032). Each beyond the first costs its stopped root volume and an idle-miss alarm while idle (`tlfif cost --nodes N`)."
  type        = number
  validation {
    condition     = var.node_count_max >= 1 && var.node_count_max <= 8 && floor(var.node_count_max) == var.node_count_max
    error_message = "node_count_max must be a whole number from 1 to 8."
  }
}

variable "scale_out_backlog" {
  description = "Pending jobs per node with a live heartbeat above which one more node is started (when node_count_max allows)."
  type        = number
  validation {
    condition     = var.scale_out_backlog >= 1 && var.scale_out_backlog <= 1000 && floor(var.scale_out_backlog) == var.scale_out_backlog
    error_message = "scale_out_backlog must be a whole number from 1 to 1000."
  }
}

variable "node_subnet_index" {
  description = "Which AZ (index into availability_zones) the node runs in; move it when that AZ lacks g4dn capacity."
  type        = number
}

variable "node_root_volume_gb" {
  description = "Root gp3 volume in GiB: OS, driver, vLLM venv and model take ~15 GB; every GiB costs while stopped."
  type        = number
  validation {
    condition     = var.node_root_volume_gb >= 20
    error_message = "The image needs at least 20 GiB."
  }
}

variable "ami_parameter_name" {
  description = "SSM parameter holding the node's AMI id; Packer's post-processor writes it."
  type        = string
}

variable "ami_keep" {
  description = "AMIs (and their snapshots) kept for roll-back by infra/scripts/prune.py; each costs snapshot storage."
  type        = number
}

variable "redis_mode" {
  description = "serverless (ElastiCache Serverless for Valkey) or node (one cache node with maxmemory-policy noeviction). ADR 0012."
  type        = string
  validation {
    condition     = contains(["serverless", "node"], var.redis_mode)
    error_message = "redis_mode must be serverless or node."
  }
}

variable "redis_node_type" {
  description = "Cache node type when redis_mode = node."
  type        = string
}

variable "redis_node_replicas" {
  description = "node mode only: 0 (a node restart loses the pending jobs) or 1 (a replica in another AZ keeps them across a failover, at a second node's price). ADR 0022."
  type        = number
  validation {
    condition     = contains([0, 1], var.redis_node_replicas)
    error_message = "redis_node_replicas must be 0 or 1."
  }
}

variable "redis_max_ecpu_per_second" {
  description = "Serverless only: ECPU/s ceiling, a cost cap that throttles and never evicts."
  type        = number
}

variable "lambda_zip_dir" {
  description = "Where `make lambda-package` leaves <name>.zip, relative to infra/."
  type        = string
}

variable "lambda_architecture" {
  description = "x86_64 or arm64; must match the wheels `make lambda-package` put in the zips."
  type        = string
  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_pinned_versions" {
  description = "Roll-back: function name -> published version the prod alias keeps (empty: the latest)."
  type        = map(string)
}

variable "lambda_keep_versions" {
  description = "Published versions kept per function by infra/scripts/prune.py."
  type        = number
}

variable "router_memory_mb" {
  description = "Router Lambda memory; the seed's 512 MB keeps cold starts under 500 ms."
  type        = number
}

variable "router_max_wait_seconds" {
  description = "Longest ?wait of GET /result; the long-poll route's alarm sits above it."
  type        = number
}

variable "api_throttle_burst" {
  description = "Stage burst limit (all users together; per-user limits are the router's)."
  type        = number
}

variable "api_throttle_rate" {
  description = "Stage steady rate limit in requests per second."
  type        = number
}

variable "open_route_throttle_rate" {
  description = "Steady rate (requests per second) of each route that takes no token: GET /ping, GET /queue-health, OPTIONS preflights (ADR 0021)."
  type        = number
}

variable "open_route_throttle_burst" {
  description = "Burst limit of each route that takes no token."
  type        = number
}

variable "api_access_log" {
  description = "Whether API Gateway writes an access log line for every request, rejected ones included (whose ingestion no throttle bounds, ADR 0021)."
  type        = bool
}

variable "router_reserved_concurrency" {
  description = "Reserved concurrency of the router Lambda; -1 leaves it unreserved (an account at the default quota of 10 cannot reserve any)."
  type        = number
}

variable "router_stream_edge" {
  description = "A second, optional edge that streams /v1 tokens as they come: a Lambda function URL (auth NONE, RESPONSE_STREAM) in front of the router run by the Lambda Web Adapter. Nothing throttles it but its reserved concurrency, and a stranger can cost more than ADR 0021's bound: off unless the owner accepts that (ADR 0028)."
  type        = bool
}

variable "router_stream_reserved_concurrency" {
  description = "With router_stream_edge: the streams (and requests a stranger can have run) at once; a function URL takes at most 10 requests a second per slot (ADR 0028)."
  type        = number
  validation {
    condition     = var.router_stream_reserved_concurrency >= 1
    error_message = "router_stream_reserved_concurrency must be at least 1: unreserved, nothing would bound the edge."
  }
}

variable "lambda_web_adapter_layer_arn" {
  description = "With router_stream_edge: the AWS Lambda Web Adapter layer for lambda_architecture (awslabs/aws-lambda-web-adapter publishes it per region)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.lambda_web_adapter_layer_arn))
    error_message = "lambda_web_adapter_layer_arn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "mfa_required" {
  description = "Whether every user of the pool must sign in with a TOTP authenticator (the owner's controls stop the GPU and lift the budget hold)."
  type        = bool
}

variable "latency_alarm_ms" {
  description = "p95 latency alarm for the short routes (the seed's 300 ms over 5 minutes)."
  type        = number
}

variable "desktop_callback_port" {
  description = "Fixed loopback port of the desktop client's PKCE callback (http://localhost:<port>/callback)."
  type        = number
}

variable "cognito_domain_prefix" {
  description = "Hosted UI prefix: https://<prefix>.auth.<region>.amazoncognito.com; unique per region."
  type        = string
}

variable "access_token_minutes" {
  description = "Access token lifetime (the seed's 60 minutes); clients refresh before it ends."
  type        = number
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention (the seed's 30 days for /apigw/tl-fif)."
  type        = number
}

variable "replies_retention_days" {
  description = "Replies are deleted after this many days (the seed's one year)."
  type        = number
}

variable "noncurrent_version_days" {
  description = "Old object versions in the buckets expire after this many days."
  type        = number
}

variable "reply_topic_email" {
  description = "An address subscribed to the replies topic (every reply's id, submitter and status; SNS mails a confirmation link first); empty: none. A phone is subscribed by hand (README)."
  type        = string
}

variable "budget_eur" {
  description = "Monthly hard stop in EUR: at 100 % budget_killer stops the GPU and holds starts."
  type        = number
}

variable "budget_warning_eur" {
  description = "Monthly warning in EUR, mailed to owner_email."
  type        = number
}

variable "usd_per_eur" {
  description = "AWS Budgets counts in USD; the EUR limits are converted with this rate."
  type        = number
}

variable "cost_publish_hours" {
  description = "cost_publisher asks Cost Explorer at most every N hours (USD 0.01 a request; its data refreshes a few times a day); it runs hourly and reads the budget's spend, which is free."
  type        = number
}

variable "scheduled_check_minutes" {
  description = "How often the scheduled check requeues orphans and restarts the node for stranded jobs."
  type        = number
}

variable "idle_miss_minutes" {
  description = "Safety net: a running node whose GPU stayed idle this long is stopped by an alarm; above the 30-minute idle maximum."
  type        = number
  validation {
    condition     = var.idle_miss_minutes > 30
    error_message = "Must exceed the longest idle a job may ask for (30 minutes)."
  }
}

variable "enable_cloudtrail" {
  description = "A management-events trail to S3 (ADR 0014)."
  type        = bool
}

variable "enable_config_rules" {
  description = "AWS Config recorder limited to the checked types plus three rules (ADR 0015)."
  type        = bool
}

variable "enable_dr_test" {
  description = "Monthly DR test: boot a node from the current AMI, wait for readiness, terminate (ADR 0016)."
  type        = bool
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows deploy by OIDC (modules/deploy_identity); empty: no provider, no deploy role."
  type        = string

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "Must be owner/name, or empty."
  }
}

variable "github_branch" {
  description = "The branch whose workflow runs may assume the deploy role (tags v* may too)."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "The account's existing OIDC provider for token.actions.githubusercontent.com (one per URL per account: the environment applied second gives the first's); empty: create it."
  type        = string
}

variable "tofu_state_bucket" {
  description = "The state bucket of envs/<env>.s3.tfbackend, which the deploy role reads and writes."
  type        = string
}
