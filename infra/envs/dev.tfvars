# dev: its own names (tl-fif-dev), no Config recorder or DR test; same shape as prod.
environment        = "dev"
region             = "eu-central-1"
owner_email        = "owner@example.com"
vpc_cidr           = "10.30.0.0/22"
availability_zones = ["eu-central-1a", "eu-central-1b"]
router_ec2_path    = "dualstack"

# The AMI parameter is dev's own: a dev bake (.github/workflows/bake.yml) must not move prod.
node_instance_type  = "g4dn.xlarge"
node_subnet_index   = 0
node_root_volume_gb = 24
ami_parameter_name  = "/tl-fif-dev/latest_ami_id"
ami_keep            = 2

# Nodes made (each beyond the first: its stopped root volume and an alarm while idle, ADR 0032)
# and the pending jobs per beating node above which another is started.
node_count_max    = 1
scale_out_backlog = 8

redis_mode                = "serverless"
redis_node_type           = "cache.t4g.micro"
redis_node_replicas       = 0
redis_max_ecpu_per_second = 5000

lambda_zip_dir          = "../dist/lambda"
lambda_architecture     = "x86_64"
lambda_pinned_versions  = {}
lambda_keep_versions    = 5
router_memory_mb        = 512
router_max_wait_seconds = 25

api_throttle_burst = 10
api_throttle_rate  = 5
# Each route that takes no token (/ping, /queue-health, OPTIONS): a stranger's ceiling (ADR 0021).
open_route_throttle_rate  = 1
open_route_throttle_burst = 2
# Concurrent router runs at most; -1 unreserved (needs an account quota of at least 110 to set).
# The gateway's access log: on (every rejected request would cost ingestion; ADR 0021).
api_access_log              = true
router_reserved_concurrency = -1
latency_alarm_ms            = 300
# The streaming edge (ADR 0028): off; on, a stranger can cost ~EUR 0.89 a day per reserved slot.
router_stream_edge                 = false
router_stream_reserved_concurrency = 2
lambda_web_adapter_layer_arn       = "arn:aws:lambda:eu-central-1:753240598075:layer:LambdaAdapterLayerX86:26"

desktop_callback_port = 53682
cognito_domain_prefix = "tl-fif-dev-change-me"
access_token_minutes  = 60
mfa_required          = false

log_retention_days      = 30
replies_retention_days  = 365
noncurrent_version_days = 7

# Every reply's id, submitter and status by mail (ADR 0031); empty: none (subscribe by hand).
reply_topic_email = ""

budget_eur         = 20
budget_warning_eur = 15
usd_per_eur        = 1.10

cost_publish_hours      = 8
scheduled_check_minutes = 1
idle_miss_minutes       = 35

enable_cloudtrail   = true
enable_config_rules = false
enable_dr_test      = false

# The deploy role for GitHub Actions by OIDC (issue 20); set github_repository to turn it on.
# One provider per account: the second environment applied takes the first's ARN (output
# deploy_oidc_provider_arn) as github_oidc_provider_arn.
github_repository        = ""
github_branch            = "main"
github_oidc_provider_arn = ""
tofu_state_bucket        = "CHANGE-ME-tofu-state"
