# The deploy identity's promises (issue 20, item 4): nothing without a repository; with one,
# GitHub's provider for sts.amazonaws.com and a role only that repository's branch and v*
# tags may assume, with audience sts.amazonaws.com; an existing provider is reused, not
# made again. Against a mock provider, as storage.tftest.hcl; pytest runs it
# (tests/infra/test_terraform_test.py).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  # A mock's computed json is a random string, which IAM resources refuse; the documents'
  # statements (configuration, known at plan) are what the runs check.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  name               = "tl-fif-dev"
  github_repository  = "owner/tl-fif"
  github_branch      = "main"
  github_environment = ""
  oidc_provider_arn  = ""
  state_bucket       = "owner-tofu-state"
  ami_parameter_name = "/tl-fif/latest_ami_id"
}

run "off_without_a_repository" {
  command = plan

  module {
    source = "./modules/deploy_identity"
  }

  variables {
    github_repository = ""
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && length(aws_iam_role.deploy) == 0
    error_message = "No repository: no provider and no role."
  }
}

run "only_the_repositorys_branch_and_tags_may_assume_the_role" {
  command = plan

  module {
    source = "./modules/deploy_identity"
  }

  assert {
    condition = alltrue([
      aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com",
      aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"]),
    ])
    error_message = "GitHub's provider, for the STS audience."
  }

  assert {
    condition     = aws_iam_role.deploy[0].name == "tl-fif-dev-deploy"
    error_message = "The role is <name>-deploy."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trust[0].statement : alltrue([
      s.actions == toset(["sts:AssumeRoleWithWebIdentity"]),
      anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "token.actions.githubusercontent.com:aud" && c.values == tolist(["sts.amazonaws.com"])]),
      anytrue([for c in s.condition : c.test == "StringLike" && c.variable == "token.actions.githubusercontent.com:sub" && c.values == tolist(["repo:owner/tl-fif:ref:refs/heads/main", "repo:owner/tl-fif:ref:refs/tags/v*"])]),
    ])])
    error_message = "The trust asks for audience sts.amazonaws.com and a sub of the repository's branch or its v* tags, nothing wider."
  }
}

run "an_existing_provider_is_reused" {
  command = plan

  module {
    source = "./modules/deploy_identity"
  }

  variables {
    oidc_provider_arn  = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    github_environment = "prod"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "A provider given is not created again (one per URL per account)."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trust[0].statement : alltrue([
      anytrue([for p in s.principals : p.type == "Federated" && p.identifiers == toset([var.oidc_provider_arn])]),
      anytrue([for c in s.condition : c.variable == "token.actions.githubusercontent.com:sub" && contains(c.values, "repo:owner/tl-fif:environment:prod")]),
    ])])
    error_message = "The role trusts the given provider, and a named environment's jobs."
  }
}
