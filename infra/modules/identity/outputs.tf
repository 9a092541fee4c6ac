output "user_pool_id" {
  description = "The user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "The user pool's ARN."
  value       = aws_cognito_user_pool.this.arn
}

output "issuer" {
  description = "Token issuer (TLFIF_ROUTER_COGNITO_ISSUER and the authorizer's issuer)."
  value       = "https://${aws_cognito_user_pool.this.endpoint}"
}

output "client_ids" {
  description = "Accepted app clients: desktop, CLI and the chat page."
  value = [
    aws_cognito_user_pool_client.desktop.id,
    aws_cognito_user_pool_client.cli.id,
    aws_cognito_user_pool_client.chat_page.id,
  ]
}

output "chat_page_client_id" {
  description = "The chat page's (PKCE) client: TLFIF_ROUTER_CHAT_CLIENT_ID."
  value       = aws_cognito_user_pool_client.chat_page.id
}

output "desktop_client_id" {
  description = "The desktop (PKCE) client."
  value       = aws_cognito_user_pool_client.desktop.id
}

output "cli_client_id" {
  description = "The CLI client."
  value       = aws_cognito_user_pool_client.cli.id
}

output "hosted_ui_domain" {
  description = "Hosted UI base URL."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.this.name}.amazoncognito.com"
}
