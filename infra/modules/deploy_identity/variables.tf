variable "name" {
  description = "Name prefix: the role is <name>-deploy and may manage <name>-* resources."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows may assume the role; empty: no provider, no role."
  type        = string
}

variable "github_branch" {
  description = "The branch whose runs (workflow_dispatch) may deploy; tags v* may too."
  type        = string
}

variable "github_environment" {
  description = "A GitHub environment whose jobs may deploy (sub repo:<repo>:environment:<env>); empty: none (the workflows name none)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "An existing provider for token.actions.githubusercontent.com (an account holds one per URL); empty: create it."
  type        = string
}

variable "state_bucket" {
  description = "The S3 bucket of the OpenTofu state (envs/<env>.s3.tfbackend)."
  type        = string
}

variable "ami_parameter_name" {
  description = "The SSM parameter naming the node's AMI, which bake moves."
  type        = string
}
