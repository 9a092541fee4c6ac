output "endpoint" {
  description = "host:port of the primary endpoint."
  value       = "${local.host}:${local.port}"
}

output "url" {
  description = "TLFIF_REDIS_URL: TLS, ACL user and password."
  value       = "rediss://${local.username}:${local.password}@${local.host}:${local.port}/0"
  sensitive   = true
}

output "cluster" {
  description = "TLFIF_REDIS_CLUSTER: serverless caches speak the cluster protocol."
  value       = var.mode == "serverless"
}

output "arn" {
  description = "ARN of the cache, for alarms and the dashboard."
  value       = var.mode == "serverless" ? aws_elasticache_serverless_cache.this[0].arn : aws_elasticache_replication_group.this[0].arn
}

output "name" {
  description = "Cache name (CloudWatch dimension)."
  value       = var.name
}
