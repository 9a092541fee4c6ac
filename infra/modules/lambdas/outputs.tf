output "function_names" {
  description = "Function names by short name."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "alias_arns" {
  description = "prod alias ARNs by short name (what every caller invokes)."
  value       = { for k, a in aws_lambda_alias.prod : k => a.arn }
}

output "alias_invoke_arns" {
  description = "prod alias invoke ARNs (API Gateway integrations)."
  value       = { for k, a in aws_lambda_alias.prod : k => a.invoke_arn }
}

output "prod_versions" {
  description = "Version each prod alias serves."
  value       = { for k, a in aws_lambda_alias.prod : k => a.function_version }
}

output "function_urls" {
  description = "Function URLs by short name (the streaming edge, ADR 0028); empty unless enabled."
  value       = { for k, u in aws_lambda_function_url.this : k => u.function_url }
}
