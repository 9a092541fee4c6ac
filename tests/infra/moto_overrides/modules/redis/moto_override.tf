# moto 5.2.5 implements neither ElastiCache serverless caches nor user groups: both are
# left out, and the URL names a host that is never dialled (the test brings its own Redis).
resource "aws_elasticache_serverless_cache" "this" {
  count         = 0
  user_group_id = null
}

resource "aws_elasticache_user_group" "this" {
  count = 0
}

resource "aws_elasticache_replication_group" "this" {
  user_group_ids = []
}

locals {
  host = "redis.moto.invalid"
  port = 6379
}

output "arn" {
  value = "arn:aws:elasticache:eu-central-1:123456789012:serverlesscache:moto-stub"
}
