# OpenTofu >= 1.10: the S3 backend's native lock file (use_lockfile) replaces the seed's
# DynamoDB lock table, one always-on resource fewer.
terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}
