output "topic_arn" {
  description = "The replies topic (TLFIF_SENDER_TOPIC_ARN)."
  value       = aws_sns_topic.replies.arn
}
