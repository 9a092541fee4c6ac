output "audit_bucket" {
  description = "Bucket of CloudTrail and Config (null if neither is built)."
  value       = local.need_bucket ? aws_s3_bucket.audit[0].id : null
}

output "dr_test_document" {
  description = "Name of the DR test automation (null if not built)."
  value       = var.enable_dr_test ? aws_ssm_document.dr_test[0].name : null
}
