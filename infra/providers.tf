provider "aws" {
  region = var.region

  # Every taggable resource gets these; modules add only their own Name/role tags.
  default_tags {
    tags = local.tags
  }
}
