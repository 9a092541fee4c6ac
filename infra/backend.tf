# Remote state in S3, partially configured: the bucket is the account's own and is given at
# init time, e.g. `tofu init -backend-config=envs/dev.s3.tfbackend`. State holds the Redis
# password, so the bucket must be private and encrypted (it is not created here: a root
# module cannot hold the bucket its own state lives in).
terraform {
  backend "s3" {
    key          = "tl-fif/terraform.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}
