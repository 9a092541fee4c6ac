output "instance_ids" {
  description = "The GPU nodes, node-0 first."
  value       = aws_instance.node[*].id
}

output "instance_id" {
  description = "The first GPU node (node-0), for what reads one."
  value       = aws_instance.node[0].id
}

output "launch_template_id" {
  description = "Template (for the DR test)."
  value       = aws_launch_template.node.id
}

output "instance_profile_name" {
  description = "The node's instance profile."
  value       = aws_iam_instance_profile.node.name
}

output "log_groups" {
  description = "The node's log groups (watcher, vllm)."
  value       = local.log_groups
}

output "ready_parameter_prefix" {
  description = "TLFIF_WATCHER_READY_PARAMETER_PREFIX."
  value       = "${local.ready_path}/"
}

output "role_arn" {
  description = "The node's role."
  value       = aws_iam_role.node.arn
}
