# Security groups. No group has an ingress rule from 0.0.0.0/0 or ::/0, and the node's group
# has no ingress rule at all: it pulls from Redis and pushes to S3, so nothing needs to reach
# it (no SSH, no NLB; SSM Session Manager works over the agent's outbound connection).

resource "aws_security_group" "node" {
  # checkov:skip=CKV2_AWS_5:attached in another module (node, lambdas, redis); checkov does not follow module outputs
  name        = "${var.name}-node"
  description = "GPU node: no inbound; outbound HTTPS to AWS APIs and Redis"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-node" }
}

resource "aws_security_group" "lambda" {
  # checkov:skip=CKV2_AWS_5:attached in another module (node, lambdas, redis); checkov does not follow module outputs
  name        = "${var.name}-lambda"
  description = "VPC Lambdas: no inbound; outbound to Redis, S3 and the EC2 API"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-lambda" }
}

resource "aws_security_group" "redis" {
  # checkov:skip=CKV2_AWS_5:attached in another module (node, lambdas, redis); checkov does not follow module outputs
  name        = "${var.name}-redis"
  description = "Redis: inbound 6379-6380 from the node and the Lambdas only"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-redis" }
}

resource "aws_security_group" "endpoint" {
  name        = "${var.name}-endpoint"
  description = "Interface endpoints (if any): inbound 443 from the Lambdas only"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-endpoint" }
}

locals {
  # ElastiCache Serverless answers on 6379 (primary) and 6380 (reader endpoint).
  redis_from = {
    node   = aws_security_group.node.id
    lambda = aws_security_group.lambda.id
  }
  https_out = {
    node_v4   = { sg = aws_security_group.node.id, cidr_ipv4 = "0.0.0.0/0", cidr_ipv6 = null }
    node_v6   = { sg = aws_security_group.node.id, cidr_ipv4 = null, cidr_ipv6 = "::/0" }
    lambda_v6 = { sg = aws_security_group.lambda.id, cidr_ipv4 = null, cidr_ipv6 = "::/0" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each = local.redis_from

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6380
  referenced_security_group_id = each.value
}

resource "aws_vpc_security_group_egress_rule" "to_redis" {
  for_each = local.redis_from

  security_group_id            = each.value
  description                  = "Redis"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6380
  referenced_security_group_id = aws_security_group.redis.id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = local.https_out

  security_group_id = each.value.sg
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value.cidr_ipv4
  cidr_ipv6         = each.value.cidr_ipv6
}

# The Lambdas reach S3 over IPv4 through the gateway endpoint only.
resource "aws_vpc_security_group_egress_rule" "lambda_s3" {
  security_group_id = aws_security_group.lambda.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_ingress_rule" "endpoint" {
  security_group_id            = aws_security_group.endpoint.id
  description                  = "HTTPS from the Lambdas"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.lambda.id
}

resource "aws_vpc_security_group_egress_rule" "lambda_endpoint" {
  security_group_id            = aws_security_group.lambda.id
  description                  = "HTTPS to interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoint.id
}
