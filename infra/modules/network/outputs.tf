output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Subnets for the node, one per AZ."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets for the VPC Lambdas and Redis, one per AZ."
  value       = aws_subnet.private[*].id
}

output "node_security_group_id" {
  description = "The node's group (no inbound)."
  value       = aws_security_group.node.id
}

output "lambda_security_group_id" {
  description = "The VPC Lambdas' group (no inbound)."
  value       = aws_security_group.lambda.id
}

output "redis_security_group_id" {
  description = "Redis's group."
  value       = aws_security_group.redis.id
}
