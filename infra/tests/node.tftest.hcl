# The node module's promises about the GPU node: IMDSv2 only, launched from the SSM AMI
# parameter with an encrypted gp3 root volume and no key pair, and a role that may stop this
# one instance and reach only its own settings. Against a mock provider (nothing is created,
# no credentials); the inputs are what the root passes for envs/dev.tfvars. Run from infra/:
# `terraform test` (or `tofu test`) after `init -backend=false`; pytest does both
# (tests/infra/test_terraform_test.py).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # What providers.tf sets for dev; the template copies it onto what EC2 creates at launch.
  mock_data "aws_default_tags" {
    defaults = { tags = { project = "tl-fif", environment = "dev", managed-by = "opentofu" } }
  }
  # A mock's generated json is a random word; a role and its policies must get a document.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # The provider checks the shape of a template's instance profile and an instance's template.
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/tl-fif-dev-node" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
}

# Pinned so a failure names it; used by the apply runs only (see below).
override_resource {
  target = aws_instance.node
  values = { arn = "arn:aws:ec2:eu-central-1:123456789012:instance/i-0123456789abcdef0" }
}

variables {
  name               = "tl-fif-dev"
  instance_type      = "g4dn.xlarge"
  subnet_id          = "subnet-0000000public0a"
  security_group_id  = "sg-0000000000000node"
  root_volume_gb     = 24
  ami_parameter_name = "/tl-fif/latest_ami_id"
  node_tag_key       = "env"
  node_tag_value     = "tinyllama-dev"
  replies_bucket_arn = "arn:aws:s3:::tl-fif-dev-replies-123456789012"
  models_bucket_arn  = "arn:aws:s3:::tl-fif-dev-models-123456789012"
  redis_url          = "rediss://tlfif:not-a-real-password-0123456789@tl-fif-dev.serverless.euc1.cache.amazonaws.com:6379/0"
  log_retention_days = 30
  node_env = {
    TLFIF_REDIS_CLUSTER                  = "true"
    TLFIF_BUCKET                         = "tl-fif-dev-replies-123456789012"
    TLFIF_REGION                         = "eu-central-1"
    TLFIF_NODE_TAG_KEY                   = "env"
    TLFIF_NODE_TAG_VALUE                 = "tinyllama-dev"
    TLFIF_WATCHER_READY_PARAMETER_PREFIX = "/tl-fif-dev/ready/"
  }
}

run "imdsv2_only_and_one_hop" {
  command = plan

  module {
    source = "./modules/node"
  }

  assert {
    condition = alltrue([for options in [aws_launch_template.node.metadata_options, aws_instance.node.metadata_options] :
      length(options) == 1 && alltrue([for o in options : o.http_endpoint == "enabled" && o.http_tokens == "required"])
    ])
    error_message = "The template and the instance both require IMDSv2 session tokens (http_tokens = required): no IMDSv1 request is answered."
  }

  assert {
    condition = alltrue([for options in [aws_launch_template.node.metadata_options, aws_instance.node.metadata_options] :
      alltrue([for o in options : o.http_put_response_hop_limit == 1])
    ])
    error_message = "The IMDS token's hop limit is 1 on the template and the instance: a token cannot leave the instance (no container or forwarded hop can fetch one)."
  }
}

run "launched_from_the_ssm_ami_with_no_way_in" {
  command = plan

  module {
    source = "./modules/node"
  }

  assert {
    condition     = aws_launch_template.node.image_id == "resolve:ssm:/tl-fif/latest_ami_id"
    error_message = "The template resolves its AMI from the SSM parameter at launch, so a new bake or a roll-back is a parameter change: ${aws_launch_template.node.image_id}"
  }

  assert {
    condition     = aws_launch_template.node.key_name == null
    error_message = "The template names no key pair, and the instance launches from it: operators come in through SSM Session Manager only."
  }

  assert {
    condition = [for n in aws_launch_template.node.network_interfaces : [n.subnet_id, n.security_groups]] == [
      ["subnet-0000000public0a", toset(["sg-0000000000000node"])]
    ]
    error_message = "The node's one network interface is in the given subnet and in the node's group alone (the group with no inbound rule)."
  }

  assert {
    condition     = aws_launch_template.node.instance_initiated_shutdown_behavior == "stop"
    error_message = "Powering off stops the node, never terminates it: it must survive to be started again."
  }
}

run "the_root_volume_is_encrypted_gp3_from_the_template" {
  command = plan

  module {
    source = "./modules/node"
  }

  assert {
    condition = [for d in aws_launch_template.node.block_device_mappings : [
      d.device_name, [for e in d.ebs : [e.encrypted, e.volume_type, e.volume_size, e.delete_on_termination]]
    ]] == [["/dev/sda1", [["true", "gp3", var.root_volume_gb, "true"]]]]
    error_message = "The template maps one root volume, /dev/sda1: encrypted gp3 of root_volume_gb GiB, deleted with the instance."
  }
}

run "the_node_reaches_only_its_own_settings_and_replies" {
  command = plan

  module {
    source = "./modules/node"
  }

  assert {
    condition = { for s in data.aws_iam_policy_document.node.statement : s.sid => s.resources if contains(["ReadOwnSettings", "MarkReady", "WriteReplies", "ReadAdapters"], s.sid) } == {
      ReadOwnSettings = toset([
        "arn:aws:ssm:eu-central-1:123456789012:parameter/tl-fif-dev/node/env",
        "arn:aws:ssm:eu-central-1:123456789012:parameter/tl-fif-dev/node/env/*",
      ])
      MarkReady    = toset(["arn:aws:ssm:eu-central-1:123456789012:parameter/tl-fif-dev/ready/*"])
      WriteReplies = toset(["arn:aws:s3:::tl-fif-dev-replies-123456789012/replies/*"])
      ReadAdapters = toset(["arn:aws:s3:::tl-fif-dev-models-123456789012/*"])
    }
    error_message = "The node reads only its own /<name>/node/env parameters, writes only under /<name>/ready/, puts objects only under replies/ of the replies bucket and reads only the models bucket."
  }
}

# Apply runs last (to the mock: nothing is created). The instance's ARN and a template id
# exist only once a provider has made them up; at plan Terraform leaves them unknown (only
# its override_during = plan would not, and OpenTofu refuses that argument).

run "the_instance_leaves_the_root_volume_to_the_template" {
  module {
    source = "./modules/node"
  }

  # terraform-provider-aws #43488: a root_block_device on the instance makes the provider call
  # DescribeImages on the template's "resolve:ssm:" string, which fails InvalidAMIID.Malformed.
  assert {
    condition     = length(aws_instance.node.root_block_device) == 0
    error_message = "aws_instance.node has no root_block_device: the template's block_device_mappings sets the root volume, and the block breaks resolve:ssm: AMIs (terraform-provider-aws #43488)."
  }

  assert {
    condition     = [for t in aws_instance.node.launch_template : t.id] == [aws_launch_template.node.id]
    error_message = "The instance is launched from the node's template."
  }
}

run "the_node_may_stop_only_itself" {
  module {
    source = "./modules/node"
  }

  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.self_stop.statement : [coalesce(s.effect, "Allow"), s.actions, s.resources]]) == jsonencode([
      ["Allow", ["ec2:StopInstances"], ["arn:aws:ec2:eu-central-1:123456789012:instance/i-0123456789abcdef0"]]
    ])
    error_message = "The self-stop policy is one Allow statement: ec2:StopInstances on this very instance's ARN and nothing else."
  }

  assert {
    condition     = aws_iam_role_policy.self_stop.role == aws_iam_role.node.id && aws_iam_instance_profile.node.role == aws_iam_role.node.name
    error_message = "The self-stop policy is attached to the node's role, the role of the node's instance profile."
  }

  # Each action read as IAM reads it: case-insensitive, * and ? as wildcards.
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.node.statement : alltrue([
      for a in s.actions : !can(regex("(?i)^${replace(replace(a, "*", ".*"), "?", ".")}$", "ec2:StopInstances"))
    ])])
    error_message = "No statement of the node's other policy grants ec2:StopInstances, by name or by wildcard (ec2:Stop*, ec2:*, *): the self-stop policy is the only way the node stops anything."
  }
}
