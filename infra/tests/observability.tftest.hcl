# The alarms that say "it is broken" (ADR 0033): each mails the alerts topic; the spend
# meter's and the probe's silence breach, the others' does not; each watches one metric.
# Against a mock provider, as storage.tftest.hcl; pytest runs it
# (tests/infra/test_terraform_test.py).

mock_provider "aws" {}

variables {
  name                    = "tl-fif-dev"
  region                  = "eu-central-1"
  api_id                  = "abc123"
  stage                   = "$default"
  instance_ids            = ["i-0123456789abcdef0"]
  latency_alarm_ms        = 300
  long_poll_seconds       = 25
  idle_miss_minutes       = 35
  alerts_topic_arn        = "arn:aws:sns:eu-central-1:123456789012:tl-fif-dev-alerts"
  function_names          = { router = "tl-fif-dev-router", scheduled_check = "tl-fif-dev-scheduled_check", budget_killer = "tl-fif-dev-budget_killer", webhook_sender = "tl-fif-dev-webhook_sender" }
  redis_mode              = "serverless"
  redis_name              = "tl-fif-dev"
  scheduled_check_minutes = 1
  ping_check_minutes      = 1
}

run "broken_alarms_page_and_treat_silence_as_meant" {
  command = plan

  module {
    source = "./modules/observability"
  }

  assert {
    condition = alltrue([for a in [
      aws_cloudwatch_metric_alarm.queue_health, aws_cloudwatch_metric_alarm.spend_silent,
      aws_cloudwatch_metric_alarm.api_5xx, aws_cloudwatch_metric_alarm.router_throttles,
      aws_cloudwatch_metric_alarm.nodes_silent, aws_cloudwatch_metric_alarm.ping_dead,
    ] : a.alarm_actions == toset([var.alerts_topic_arn]) && length(a.metric_query) == 0 && length(a.alarm_description) > 80])
    error_message = "Each alarm mails the alerts topic, watches one metric (billed per metric) and carries its runbook line."
  }

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.spend_silent.treat_missing_data == "breaching",
      aws_cloudwatch_metric_alarm.ping_dead.treat_missing_data == "breaching",
      aws_cloudwatch_metric_alarm.queue_health.treat_missing_data == "notBreaching",
      aws_cloudwatch_metric_alarm.nodes_silent.treat_missing_data == "notBreaching",
    ])
    error_message = "A silent spend meter or probe is an alarm; a check that did not run is not."
  }

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.spend_silent.period == 7200,
      aws_cloudwatch_metric_alarm.queue_health.threshold == 2 && aws_cloudwatch_metric_alarm.queue_health.period == 300,
      aws_cloudwatch_metric_alarm.nodes_silent.evaluation_periods == 2 && aws_cloudwatch_metric_alarm.nodes_silent.datapoints_to_alarm == 2,
      aws_cloudwatch_metric_alarm.ping_dead.evaluation_periods == 3 && aws_cloudwatch_metric_alarm.ping_dead.datapoints_to_alarm == 2,
      aws_cloudwatch_metric_alarm.router_throttles.dimensions.FunctionName == "tl-fif-dev-router",
    ])
    error_message = "Thresholds as ADR 0033 states them."
  }
}
