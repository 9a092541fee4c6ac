# What the deploy role may do. Resources are named <name>-* (or /<name>/...) throughout the
# stack, so each service that takes resource ARNs is limited to those; prod's prefix
# (tl-fif-) also matches dev's (tl-fif-dev-): one owner runs both.

locals {
  named = "${var.name}-*"
}

data "aws_iam_policy_document" "deploy" {
  statement {
    # checkov:skip=CKV_AWS_356:plan and refresh read every resource of the stack (Describe/List/Get); most of these take no resource ARN, and none of them reads data or secrets
    sid = "ReadToPlan"
    actions = [
      "sts:GetCallerIdentity",
      "ec2:Describe*",
      "ec2:GetLaunchTemplateData",
      "elasticache:Describe*",
      "elasticache:ListTagsForResource",
      "lambda:GetLayerVersion",
      "lambda:ListFunctions",
      "cognito-idp:DescribeUserPool",
      "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:DescribeUserPoolDomain",
      "cognito-idp:GetUserPoolMfaConfig",
      "cognito-idp:GetGroup",
      "cognito-idp:ListTagsForResource",
      "logs:DescribeLogGroups",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "events:DescribeRule",
      "events:ListTargetsByRule",
      "events:ListTagsForResource",
      "budgets:ViewBudget",
      "budgets:DescribeNotificationsForBudget",
      "budgets:DescribeSubscribersForNotification",
      "budgets:ListTagsForResource",
      "cloudtrail:DescribeTrails",
      "cloudtrail:GetTrailStatus",
      "cloudtrail:GetEventSelectors",
      "cloudtrail:ListTags",
      "config:Describe*",
      "ssm:DescribeParameters",
      "ssm:DescribeDocument*",
      "kms:DescribeKey",
      "kms:ListAliases",
      "xray:GetTraceSegmentDestination",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.p}:s3:::${var.state_bucket}"]
  }

  statement {
    sid       = "StateObjects" # the state file and its lock file (use_lockfile)
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.p}:s3:::${var.state_bucket}/tl-fif/*"]
  }

  statement {
    # checkov:skip=CKV_AWS_111:EC2 networking, templates and instances take ids, not names, at creation; limited to the stack's region
    # checkov:skip=CKV_AWS_356:as above: an EC2 resource has no ARN before it exists, so no name-based scope is possible
    sid       = "Ec2InRegion"
    actions   = ["ec2:*"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    sid     = "NamedResources"
    actions = ["lambda:*", "sns:*", "events:*", "elasticache:*", "budgets:*", "cloudtrail:*", "s3:*"]
    resources = [
      "arn:${local.p}:lambda:${local.arn}:function:${local.named}",
      "arn:${local.p}:sns:${local.arn}:${local.named}",
      "arn:${local.p}:events:${local.arn}:rule/${local.named}",
      "arn:${local.p}:elasticache:${local.arn}:*:${var.name}*",
      "arn:${local.p}:budgets::${local.account}:budget/${local.named}",
      "arn:${local.p}:cloudtrail:${local.arn}:trail/${var.name}",
      "arn:${local.p}:s3:::${local.named}",
      "arn:${local.p}:s3:::${local.named}/*",
    ]
  }

  statement {
    sid     = "LogsAlarmsDashboard"
    actions = ["logs:*", "cloudwatch:*"]
    resources = [
      "arn:${local.p}:logs:${local.arn}:log-group:/aws/lambda/${local.named}",
      "arn:${local.p}:logs:${local.arn}:log-group:/aws/lambda/${local.named}:*",
      "arn:${local.p}:logs:${local.arn}:log-group:/apigw/${var.name}*",
      "arn:${local.p}:logs:${local.arn}:log-group:/${var.name}/*",
      "arn:${local.p}:cloudwatch:${local.arn}:alarm:${local.named}",
      "arn:${local.p}:cloudwatch::${local.account}:dashboard/${var.name}",
    ]
  }

  statement {
    sid     = "Parameters" # the stack's own, and the AMI parameter bake moves
    actions = ["ssm:*"]
    resources = [
      "arn:${local.p}:ssm:${local.arn}:parameter/${var.name}/*",
      "arn:${local.p}:ssm:${local.arn}:parameter${var.ami_parameter_name}",
      "arn:${local.p}:ssm:${local.arn}:document/${local.named}",
    ]
  }

  statement {
    sid     = "UserPoolsAndApis" # both are named by ids AWS picks: the region is the scope
    actions = ["cognito-idp:*", "apigateway:*"]
    resources = [
      "arn:${local.p}:cognito-idp:${local.arn}:userpool/*",
      "arn:${local.p}:apigateway:${local.region}::/apis",
      "arn:${local.p}:apigateway:${local.region}::/apis/*",
      "arn:${local.p}:apigateway:${local.region}::/tags/*",
    ]
  }

  statement {
    # checkov:skip=CKV_AWS_356:CreateUserPool and ListUserPools take no resource ARN (a pool's id exists only after it); limited to the stack's region
    # checkov:skip=CKV_AWS_111:as above
    sid       = "NewUserPool"
    actions   = ["cognito-idp:CreateUserPool", "cognito-idp:ListUserPools"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    # ElastiCache makes its service-linked role on an account's first cache.
    sid       = "ElastiCacheServiceRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.p}:iam::${local.account}:role/aws-service-role/elasticache.amazonaws.com/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["elasticache.amazonaws.com"]
    }
  }

  statement {
    # The function URL's InvokeFunction statement goes through Cloud Control (modules/lambdas).
    # checkov:skip=CKV_AWS_356:Cloud Control's resource calls take no ARN; what they change is checked again against lambda:* on <name>-* above
    sid = "CloudControl"
    actions = [
      "cloudformation:CreateResource",
      "cloudformation:GetResource",
      "cloudformation:UpdateResource",
      "cloudformation:DeleteResource",
      "cloudformation:GetResourceRequestStatus",
    ]
    resources = ["*"]
  }

  statement {
    # checkov:skip=CKV_AWS_110:a deploy creates the functions' and the node's roles, so it manages roles; only <name>-* roles, and PassRole only to the services below
    # checkov:skip=CKV_AWS_109:as above: permissions management limited to the stack's own <name>-* roles and instance profiles
    sid = "StackRoles"
    actions = [
      "iam:GetRole", "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole",
      "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy",
      "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListInstanceProfilesForRole",
      "iam:GetInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
      "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
    ]
    resources = [
      "arn:${local.p}:iam::${local.account}:role/${local.named}",
      "arn:${local.p}:iam::${local.account}:instance-profile/${local.named}",
    ]
  }

  statement {
    sid       = "PassStackRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.p}:iam::${local.account}:role/${local.named}"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "ec2.amazonaws.com", "config.amazonaws.com"]
    }
  }

  statement {
    sid = "GitHubProvider" # this module's own provider, kept by the deploys
    actions = [
      "iam:GetOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider",
      "iam:DeleteOpenIDConnectProvider", "iam:TagOpenIDConnectProvider",
      "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
      "iam:AddClientIDToOpenIDConnectProvider",
    ]
    resources = ["arn:${local.p}:iam::${local.account}:oidc-provider/${local.token_host}"]
  }

  statement {
    # checkov:skip=CKV_AWS_356:AWS Config's recorder, channel and rules take no resource ARN at creation; limited to the stack's region
    # checkov:skip=CKV_AWS_111:as above
    sid       = "ConfigInRegion"
    actions   = ["config:*"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }
}
