output "api_url" {
  description = "Base URL of the API (clients' api_url)."
  value       = module.api.api_url
}

output "stream_url" {
  description = "The streaming edge (ADR 0028): the router behind a Lambda function URL, /v1 streamed live; null unless router_stream_edge."
  value       = lookup(module.lambdas.function_urls, "router_stream", null)
}

output "ping_url" {
  description = "Unauthenticated uptime check (the seed's API-005)."
  value       = "${trimsuffix(module.api.api_url, "/")}/ping"
}

output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = module.observability.dashboard_url
}

output "redis_endpoint" {
  description = "Redis primary endpoint host:port (TLS; AUTH as user tlfif)."
  value       = module.redis.endpoint
}

output "user_pool_id" {
  description = "Cognito user pool (clients' user_pool_id)."
  value       = module.identity.user_pool_id
}

output "cli_client_id" {
  description = "App client of the tlfif CLI (clients' client_id)."
  value       = module.identity.cli_client_id
}

output "desktop_client_id" {
  description = "App client of the desktop GUI (PKCE)."
  value       = module.identity.desktop_client_id
}

output "hosted_ui_domain" {
  description = "Cognito hosted UI."
  value       = module.identity.hosted_ui_domain
}

output "node_instance_id" {
  description = "The first GPU node (node-0)."
  value       = module.node.instance_id
}

output "node_instance_ids" {
  description = "Every GPU node (node_count_max of them), node-0 first."
  value       = module.node.instance_ids
}

output "replies_bucket" {
  description = "Replies bucket."
  value       = module.storage.replies_bucket
}

output "replies_topic_arn" {
  description = "The replies topic: every reply's id, submitter and status (subscribe an email or a phone to it, README)."
  value       = module.reply_events.topic_arn
}

output "lambda_prod_versions" {
  description = "Version each prod alias serves."
  value       = module.lambdas.prod_versions
}

output "alarm_names" {
  description = "Alarms created."
  value       = module.observability.alarm_names
}

output "prune_settings" {
  description = "What infra/scripts/prune.py keeps: AMIs and Lambda versions."
  value = {
    ami_parameter_name   = var.ami_parameter_name
    ami_keep             = var.ami_keep
    lambda_keep_versions = var.lambda_keep_versions
    functions            = module.lambdas.function_names
  }
}

output "deploy_role_arn" {
  description = "The GitHub Actions deploy role (repository variable AWS_DEPLOY_ROLE_ARN_<ENV>); null unless github_repository is set."
  value       = module.deploy_identity.role_arn
}

output "deploy_oidc_provider_arn" {
  description = "The GitHub OIDC provider the deploy role trusts (the other environment's github_oidc_provider_arn); null unless github_repository is set."
  value       = module.deploy_identity.oidc_provider_arn
}
