# The queue. Either way: TLS in transit (rediss://), encryption at rest, and AUTH as an ACL
# user that may touch only the {tlfif} keys; the built-in default user is switched off.
#
# Nothing may evict a queued prompt. A node takes maxmemory-policy noeviction, so a full
# cache refuses the enqueue (the router answers 503) instead of dropping jobs. A serverless
# cache has no parameter group: it evicts TTL'd keys (all jobs have one) only when it hits a
# data-storage maximum, so none is set; its size is bounded by the router's per-user caps and
# the job TTL, and its bill by the ECPU ceiling and the budget (ADR 0012).

# The app user's password: an SSM SecureString the owner creates once, before the first
# apply (README, ADR 0023). Not generated here: the random provider is not what a machine
# without a registry has, and Secrets Manager's random-password data source is re-read on
# every plan, so the password would change on every apply.
data "aws_ssm_parameter" "redis_password" {
  name            = "/${var.name}/redis/password"
  with_decryption = true
}

locals {
  password = data.aws_ssm_parameter.redis_password.value
}

locals {
  engine   = "valkey"
  username = "tlfif"
  # Keys: only the hash-tagged {tlfif}:* names (tlfif/keys.py); channels: any. No admin or
  # dangerous commands (FLUSHALL, CONFIG, KEYS, DEBUG, ...).
  access_string = "on ~{tlfif}:* &* +@all -@admin -@dangerous"
}

resource "aws_elasticache_user" "app" {
  user_id       = "${var.name}-app"
  user_name     = local.username
  engine        = local.engine
  access_string = local.access_string

  authentication_mode {
    type      = "password"
    passwords = [local.password]
  }

  tags = { Name = "${var.name}-app" }
}

# A user group must name a "default" user; this one can do nothing.
resource "aws_elasticache_user" "default_off" {
  user_id       = "${var.name}-default-off"
  user_name     = "default"
  engine        = local.engine
  access_string = "off -@all"

  authentication_mode {
    type = "no-password-required"
  }

  tags = { Name = "${var.name}-default-off" }
}

resource "aws_elasticache_user_group" "this" {
  user_group_id = var.name
  engine        = local.engine
  user_ids      = [aws_elasticache_user.default_off.user_id, aws_elasticache_user.app.user_id]

  tags = { Name = var.name }
}

resource "aws_elasticache_serverless_cache" "this" {
  count = var.mode == "serverless" ? 1 : 0

  name                 = var.name
  engine               = local.engine
  major_engine_version = "8"
  description          = "TL-FIF job queue"
  subnet_ids           = var.subnet_ids
  security_group_ids   = [var.security_group_id]
  user_group_id        = aws_elasticache_user_group.this.user_group_id
  # The queue is transient (jobs live 300 s); a snapshot would only add storage cost.
  snapshot_retention_limit = 0

  # No data_storage maximum: reaching one makes the cache evict TTL'd keys, i.e. jobs.
  cache_usage_limits {
    ecpu_per_second {
      maximum = var.max_ecpu_per_second
    }
  }

  tags = { Name = var.name }
}

resource "aws_elasticache_parameter_group" "noeviction" {
  count = var.mode == "node" ? 1 : 0

  name   = "${var.name}-noeviction"
  family = "valkey8"

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }

  tags = { Name = "${var.name}-noeviction" }
}

resource "aws_elasticache_subnet_group" "this" {
  count = var.mode == "node" ? 1 : 0

  name       = var.name
  subnet_ids = var.subnet_ids

  tags = { Name = var.name }
}

# Without a replica, a node restart empties the queue: pending jobs are lost (their
# replies already in S3 stay readable). One replica in another AZ keeps them across a
# failover, at a second node's price (ADR 0022).
resource "aws_elasticache_replication_group" "this" {
  # checkov:skip=CKV2_AWS_50:a replica is a choice (node_replicas, ADR 0022): it doubles the always-on cost
  count = var.mode == "node" ? 1 : 0

  replication_group_id       = var.name
  description                = "TL-FIF job queue"
  engine                     = local.engine
  engine_version             = "8.0"
  node_type                  = var.node_type
  num_cache_clusters         = 1 + var.node_replicas
  port                       = 6379
  parameter_group_name       = aws_elasticache_parameter_group.noeviction[0].name
  subnet_group_name          = aws_elasticache_subnet_group.this[0].name
  security_group_ids         = [var.security_group_id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  user_group_ids             = [aws_elasticache_user_group.this.user_group_id]
  automatic_failover_enabled = var.node_replicas > 0
  multi_az_enabled           = var.node_replicas > 0
  snapshot_retention_limit   = 0
  auto_minor_version_upgrade = true
  apply_immediately          = true

  tags = { Name = var.name }
}

locals {
  host = (var.mode == "serverless"
    ? aws_elasticache_serverless_cache.this[0].endpoint[0].address
  : aws_elasticache_replication_group.this[0].primary_endpoint_address)
  port = var.mode == "serverless" ? aws_elasticache_serverless_cache.this[0].endpoint[0].port : 6379
}
