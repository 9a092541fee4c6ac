output "role_arn" {
  description = "The deploy role (the repository variable AWS_DEPLOY_ROLE_ARN_<ENV>); null when github_repository is empty."
  value       = one(aws_iam_role.deploy[*].arn)
}

output "oidc_provider_arn" {
  description = "The GitHub OIDC provider the role trusts (give it to the other environment as github_oidc_provider_arn); null when none."
  value       = local.enabled ? local.provider_arn : null
}
