# The network module's promises about its security groups: nothing may open a connection to
# the node, nothing is admitted from the internet, Redis admits only the node and the VPC
# Lambdas, the EC2 interface endpoint (when there is one) only the Lambdas. Against a mock
# provider (nothing is created, no credentials); the inputs are what the root passes for
# envs/dev.tfvars. Run from infra/: `terraform test` (or `tofu test`) after
# `init -backend=false`; pytest does both (tests/infra/test_terraform_test.py).
#
# The rules name groups by id, which a provider computes: at plan Terraform leaves ids unknown
# (only its override_during = plan would not, and OpenTofu refuses that argument), so these
# runs apply, to the mock. The ids are pinned below so a failure names the groups. A rule
# resource added later is not seen here unless listed; tests/infra/test_properties.py reads
# every rule in the HCL.

mock_provider "aws" {
  # The subnets are carved out of it with cidrsubnet(), which refuses a random word.
  mock_resource "aws_vpc" {
    defaults = { ipv6_cidr_block = "2a05:d014:0abc:de00::/56" }
  }
}

override_resource {
  target = aws_security_group.node
  values = { id = "sg-0000000000000node" }
}

override_resource {
  target = aws_security_group.lambda
  values = { id = "sg-00000000000lambda" }
}

override_resource {
  target = aws_security_group.redis
  values = { id = "sg-0000000000000redis" }
}

override_resource {
  target = aws_security_group.endpoint
  values = { id = "sg-0000000000endpoint" }
}

variables {
  name               = "tl-fif-dev"
  region             = "eu-central-1"
  vpc_cidr           = "10.30.0.0/22"
  availability_zones = ["eu-central-1a", "eu-central-1b"]
  router_ec2_path    = "dualstack"
}

run "nothing_can_open_a_connection_to_the_node" {
  module {
    source = "./modules/network"
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_ingress_rule.redis), [aws_vpc_security_group_ingress_rule.endpoint]) :
      r.security_group_id != aws_security_group.node.id
    ])
    error_message = "No ingress rule belongs to the node's group: the node pulls from Redis and pushes to S3, nothing connects to it (no SSH; SSM works outbound)."
  }

  assert {
    condition     = length(aws_security_group.node.ingress) == 0
    error_message = "The node's group has no inline ingress block either: ${jsonencode(aws_security_group.node.ingress)}"
  }
}

run "no_ingress_from_the_internet" {
  module {
    source = "./modules/network"
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_ingress_rule.redis), [aws_vpc_security_group_ingress_rule.endpoint]) :
      r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.prefix_list_id == null && r.referenced_security_group_id != null
    ])
    error_message = "Every ingress rule admits another security group, never an address range: nothing from 0.0.0.0/0 or ::/0."
  }

  assert {
    condition     = alltrue([for g in [aws_security_group.lambda, aws_security_group.redis, aws_security_group.endpoint] : length(g.ingress) == 0])
    error_message = "No group has inline ingress blocks; every way in is one of the listed rules."
  }
}

run "redis_admits_only_the_node_and_the_lambdas" {
  module {
    source = "./modules/network"
  }

  assert {
    condition = toset([
      for r in concat(values(aws_vpc_security_group_ingress_rule.redis), [aws_vpc_security_group_ingress_rule.endpoint]) :
      r.referenced_security_group_id if r.security_group_id == aws_security_group.redis.id
    ]) == toset([aws_security_group.node.id, aws_security_group.lambda.id])
    error_message = "Redis's group admits exactly two sources, the node's group and the Lambdas' group: ${jsonencode([for r in values(aws_vpc_security_group_ingress_rule.redis) : r.referenced_security_group_id])}"
  }

  assert {
    condition     = alltrue([for r in values(aws_vpc_security_group_ingress_rule.redis) : r.security_group_id == aws_security_group.redis.id && r.ip_protocol == "tcp" && r.from_port == 6379 && r.to_port == 6380])
    error_message = "Each Redis rule opens TCP 6379-6380 (ElastiCache Serverless's primary and reader ports) on Redis's group and nothing else."
  }
}

run "the_ec2_endpoint_admits_only_the_lambdas" {
  variables {
    router_ec2_path = "endpoint"
  }

  module {
    source = "./modules/network"
  }

  assert {
    condition     = length(aws_vpc_endpoint.ec2) == 1 && toset(aws_vpc_endpoint.ec2[0].security_group_ids) == toset([aws_security_group.endpoint.id])
    error_message = "With router_ec2_path = endpoint there is one EC2 interface endpoint, in the endpoint group only."
  }

  assert {
    condition = [
      for r in concat(values(aws_vpc_security_group_ingress_rule.redis), [aws_vpc_security_group_ingress_rule.endpoint]) :
      [r.referenced_security_group_id, r.ip_protocol, r.from_port, r.to_port] if r.security_group_id == aws_security_group.endpoint.id
    ] == [[aws_security_group.lambda.id, "tcp", 443, 443]]
    error_message = "The endpoint group admits HTTPS (TCP 443) from the Lambdas' group and nothing else."
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_ingress_rule.redis), [aws_vpc_security_group_ingress_rule.endpoint]) :
      r.security_group_id != aws_security_group.node.id
    ])
    error_message = "With an endpoint too, no ingress rule belongs to the node's group."
  }
}
