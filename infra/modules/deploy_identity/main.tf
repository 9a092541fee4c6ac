# The deploy identity (issue 20, item 4): GitHub Actions' OIDC provider and a role its
# workflows (.github/workflows: validate, deploy, bake, destroy) assume with no stored AWS
# key. Off until github_repository is set. An account holds one provider per URL: the first
# environment applied creates it, the other passes its ARN as github_oidc_provider_arn.
#
# Trust: audience sts.amazonaws.com, and the token's sub one of the repository's branch
# (workflow_dispatch runs from it), its release tags v*, and an environment when named (the
# workflows use none today). Permissions: what `tofu apply` and `destroy` of this stack,
# bake's AMI parameter, the router alias roll-back and `tlfif smoke` need, scoped to the
# <name>-* resources where a service names resources, and to the region where it does not.

data "aws_region" "this" {}
data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

locals {
  enabled         = var.github_repository != ""
  create_provider = local.enabled && var.oidc_provider_arn == ""
  provider_arn    = local.create_provider ? one(aws_iam_openid_connect_provider.github[*].arn) : var.oidc_provider_arn
  token_host      = "token.actions.githubusercontent.com"

  subjects = concat(
    ["repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"],
    ["repo:${var.github_repository}:ref:refs/tags/v*"],
    var.github_environment == "" ? [] : ["repo:${var.github_repository}:environment:${var.github_environment}"],
  )

  p       = data.aws_partition.this.partition
  region  = data.aws_region.this.name
  account = data.aws_caller_identity.this.account_id
  arn     = "${local.region}:${local.account}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = local.create_provider ? 1 : 0

  url            = "https://${local.token_host}"
  client_id_list = ["sts.amazonaws.com"]
  # IAM verifies GitHub's tokens against its own trusted CAs and ignores these; the
  # provider version pinned here still asks for a list.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]

  tags = { Name = "${var.name}-github-oidc" }
}

data "aws_iam_policy_document" "trust" {
  count = local.enabled ? 1 : 0

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.token_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "${local.token_host}:sub"
      values   = local.subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  count = local.enabled ? 1 : 0

  name                 = "${var.name}-deploy"
  description          = "GitHub Actions of ${var.github_repository}: deploy, bake, destroy ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.trust[0].json
  max_session_duration = 3600 # a deploy's apply and smoke take well under an hour

  tags = { Name = "${var.name}-deploy" }
}

resource "aws_iam_role_policy" "deploy" {
  count = local.enabled ? 1 : 0

  name   = "deploy"
  role   = aws_iam_role.deploy[0].id
  policy = data.aws_iam_policy_document.deploy.json
}
