output "replies_bucket" {
  description = "Name of the replies bucket (TLFIF_BUCKET)."
  value       = aws_s3_bucket.this["replies"].id
}

output "replies_bucket_arn" {
  description = "ARN of the replies bucket."
  value       = aws_s3_bucket.this["replies"].arn
}

output "models_bucket_arn" {
  description = "ARN of the models bucket."
  value       = aws_s3_bucket.this["models"].arn
}
