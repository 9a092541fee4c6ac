# The node module's promises about the GPU nodes: node_count of them, each tagged as the node;
# IMDSv2 only, launched from the SSM AMI parameter with an encrypted gp3 root volume and no
# key pair, and a role that lets each stop only itself and reach only its own settings. Against a mock provider (nothing is created,
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

variables {
  name               = "tl-fif-dev"
  node_count         = 1
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
    condition = alltrue([for options in [aws_launch_template.node.metadata_options, aws_instance.node[0].metadata_options] :
      length(options) == 1 && alltrue([for o in options : o.http_endpoint == "enabled" && o.http_tokens == "required"])
    ])
    error_message = "The template and the instance both require IMDSv2 session tokens (http_tokens = required): no IMDSv1 request is answered."
  }

  assert {
    condition = alltrue([for options in [aws_launch_template.node.metadata_options, aws_instance.node[0].metadata_options] :
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

run "one_node_by_default" {
  command = plan

  module {
    source = "./modules/node"
  }

  assert {
    condition     = length(aws_instance.node) == 1 && length(aws_ec2_instance_state.node) == 1
    error_message = "node_count = 1 makes one instance, stopped after creation: today's bill."
  }

  assert {
    condition     = aws_instance.node[0].tags == tomap({ Name = "tl-fif-dev-node-0", env = "tinyllama-dev", "tlfif-env-path" = "/tl-fif-dev/node/env" })
    error_message = "The one node is node-0, tagged as the node the router finds (env = tinyllama-dev)."
  }
}

run "node_count_two_makes_two_tagged_nodes" {
  command = plan

  module {
    source = "./modules/node"
  }

  variables {
    node_count = 2
  }

  assert {
    condition     = length(aws_instance.node) == 2 && length(aws_ec2_instance_state.node) == 2
    error_message = "node_count = 2 makes two instances, each stopped after creation."
  }

  assert {
    condition     = [for i in aws_instance.node : i.tags["env"]] == ["tinyllama-dev", "tinyllama-dev"]
    error_message = "Every node carries the node tag: the router and the budget killer find them all by it."
  }

  assert {
    condition     = [for i in aws_instance.node : i.tags["Name"]] == ["tl-fif-dev-node-0", "tl-fif-dev-node-1"]
    error_message = "Each node is named by its index: tl-fif-dev-node-0, tl-fif-dev-node-1."
  }

  assert {
    condition     = alltrue([for i in aws_instance.node : i.iam_instance_profile == "tl-fif-dev-node"])
    error_message = "The nodes share one instance profile: the self-stop policy's variable keeps each to itself."
  }
}

run "node_count_is_one_to_eight" {
  command = plan

  module {
    source = "./modules/node"
  }

  variables {
    node_count = 9
  }

  expect_failures = [var.node_count]
}

# Apply runs last (to the mock: nothing is created). A template id exists only once a
# provider has made it up; at plan Terraform leaves it unknown (only its override_during =
# plan would not, and OpenTofu refuses that argument).

run "the_instance_leaves_the_root_volume_to_the_template" {
  module {
    source = "./modules/node"
  }

  # terraform-provider-aws #43488: a root_block_device on the instance makes the provider call
  # DescribeImages on the template's "resolve:ssm:" string, which fails InvalidAMIID.Malformed.
  assert {
    condition     = length(aws_instance.node[0].root_block_device) == 0
    error_message = "aws_instance.node has no root_block_device: the template's block_device_mappings sets the root volume, and the block breaks resolve:ssm: AMIs (terraform-provider-aws #43488)."
  }

  assert {
    condition     = [for t in aws_instance.node[0].launch_template : t.id] == [aws_launch_template.node.id]
    error_message = "The instance is launched from the node's template."
  }
}

run "the_node_may_stop_only_itself" {
  module {
    source = "./modules/node"
  }

  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.self_stop.statement :
      [coalesce(s.effect, "Allow"), s.actions, s.resources, [for c in s.condition : [c.test, c.variable, c.values]]]
      ]) == jsonencode([[
        "Allow", ["ec2:StopInstances"], ["arn:aws:ec2:eu-central-1:123456789012:instance/*"],
        [["ArnEquals", "ec2:SourceInstanceARN", ["arn:aws:ec2:eu-central-1:123456789012:instance/$${ec2:InstanceID}"]]],
    ]])
    error_message = "The self-stop policy is one Allow statement: ec2:StopInstances on an instance only when it is the caller (ec2:SourceInstanceARN equals the target's ARN), so of N nodes sharing the role each stops only itself."
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
