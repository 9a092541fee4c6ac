# Who may call the API: a user pool nobody can sign up to (the owner creates users), a
# hosted-UI domain for the desktop client's and the chat page's browser login, and three
# public app clients.
# Clients send access tokens (token_use=access), which the gateway's JWT authorizer checks
# against the client ids below (a Cognito access token carries client_id, not aud).

resource "aws_cognito_user_pool" "this" {
  name = var.name

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = "ACTIVE"
  # Required in prod: a stolen password alone must not stop the GPU or lift the budget hold.
  mfa_configuration = var.mfa_required ? "ON" : "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = { Name = var.name }
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

locals {
  callback_url = "http://localhost:${var.desktop_callback_port}/callback"
}

# The desktop GUI: authorization code with PKCE through the hosted UI; the browser returns
# to a fixed loopback port (Cognito matches callback URLs exactly, port included).
resource "aws_cognito_user_pool_client" "desktop" {
  name         = "${var.name}-desktop"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = [local.callback_url]
  logout_urls                          = [local.callback_url]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity  = var.access_token_minutes
  id_token_validity      = var.access_token_minutes
  refresh_token_validity = 30
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

# The chat page the router serves at the API's root (ADR 0026): authorization code with
# PKCE through the hosted UI, the code redeemed by the page itself (a public client: a
# browser keeps no secret). Cognito sends the browser back to the page's own address, the
# API's URL + "/", which names the API, while the API's JWT authorizer names this client:
# no cycle, since the address is the API resource's own endpoint, known before its
# authorizer and stage exist (ADR 0026 says how).
resource "aws_cognito_user_pool_client" "chat_page" {
  name         = "${var.name}-chat-page"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = [var.chat_page_url]
  logout_urls                          = [var.chat_page_url]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity = var.access_token_minutes
  id_token_validity     = var.access_token_minutes
  # A day, not the desktop's 30: the page keeps it in one tab's sessionStorage, where a
  # script that got in could read it; the tab forgets it when it closes anyway.
  refresh_token_validity = 1
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

# The `tlfif` CLI: USER_PASSWORD_AUTH and refresh, as tlfif/aws/cognito.py does it.
resource "aws_cognito_user_pool_client" "cli" {
  name         = "${var.name}-cli"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret     = false
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity  = var.access_token_minutes
  id_token_validity      = var.access_token_minutes
  refresh_token_validity = 30
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

data "aws_region" "this" {}

# The deployment's owner (ADR 0021): only its members stop the node and lift holds. Add
# yourself once: aws cognito-idp admin-add-user-to-group --group-name owner ...
resource "aws_cognito_user_group" "owner" {
  name         = var.owner_group
  user_pool_id = aws_cognito_user_pool.this.id
  description  = "Owns the TL-FIF deployment: stops the node, lifts holds"
}
