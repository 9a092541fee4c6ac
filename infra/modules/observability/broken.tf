# Alarms that say "it is broken" (ADR 0033), beside the five of main.tf. Each description is
# its runbook line: what it means, then what to do first (docs/operations.md, "Alarms").
# Each alarm watches one metric: CloudWatch bills per metric in an alarm, not per alarm.

locals {
  # EMF metrics the code publishes, dimension "service" (namespace TLFIF).
  queue_health_metric = { name = "QueueHealthFailed", service = "queue_health" } # queue_health/handler.py
  nodes_silent_metric = { name = "NodesSilent", service = "scheduled_check" }    # tlfif/silent.py
  ping_metric         = { name = "PingOk", service = "ping_check" }              # tlfif/probe.py

  # cost_publisher runs hourly (modules/schedule) and publishes CurrentSpendEUR each run
  # the budget's figure is read: two hours with none is one missed run and then some.
  spend_silent_seconds = 2 * 3600
}

# ping_check calls GET /queue-health each minute, so "twice in 5 minutes" is two failed
# checks of five; callers' own checks add to both counts.
resource "aws_cloudwatch_metric_alarm" "queue_health" {
  alarm_name          = "${var.name}-queue-health"
  alarm_description   = "Queue health failed twice in 5 minutes: Redis is down, refusing or slower than 200 ms, so prompts cannot be queued. First: GET /queue-health for the reason, then the cache's state and the queue_health log group."
  namespace           = "TLFIF"
  metric_name         = local.queue_health_metric.name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching" # no check ran: the ping-dead alarm says why
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = { service = local.queue_health_metric.service }

  tags = { Name = "${var.name}-queue-health" }
}

# The spend meter's silence is itself a risk: GET /cost and the budget picture go stale
# while the GPU may run. Missing data breaches.
resource "aws_cloudwatch_metric_alarm" "spend_silent" {
  alarm_name          = "${var.name}-spend-silent"
  alarm_description   = "No CurrentSpendEUR for 2 hours: cost_publisher is not running or cannot read the spend, so GET /cost is stale. First: the cost_publisher log group (its error names the source), then the hourly schedule rule."
  namespace           = local.spend_metric.namespace
  metric_name         = local.spend_metric.name
  statistic           = "SampleCount"
  period              = local.spend_silent_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = { service = local.spend_metric.service }

  tags = { Name = "${var.name}-spend-silent" }
}

# The 5xx rate: HTTP API's 5xx metric is 0 or 1 per request, so its Average is the rate
# (Count is its sample count) and one metric is enough. The floor: ping_check sends 10
# requests per 5 minutes, so a single stray 5xx is at most 1 in 10, never above 10 %; and
# the rate must stay above 10 % for two periods running, so a burst at night does not page.
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "Over 10 % of API requests answered 5xx in two 5-minute periods running: the router or its integration fails (the router itself never answers 500). First: the access log /apigw/<name> for the routes and statuses, then the router's log group."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 0.1
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = {
    ApiId = var.api_id
    Stage = var.stage
  }

  tags = { Name = "${var.name}-api-5xx" }
}

# Lambda throttling the router means a request never reached it: the account's (or the
# reserved) concurrency is used up, and callers get the gateway's error, not the router's
# answer. The stage's own 429s are the configured limit doing its job against a flood, and
# HTTP API has no 429 metric apart from 4xx (which every 401 and 404 feeds): not alarmed.
resource "aws_cloudwatch_metric_alarm" "router_throttles" {
  alarm_name          = "${var.name}-router-throttles"
  alarm_description   = "Lambda throttled the router in the last 5 minutes: its concurrency is used up and requests fail before the router runs. First: the router's ConcurrentExecutions and the account's concurrency quota; a flood shows in the access log."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = { FunctionName = var.function_names["router"] }

  tags = { Name = "${var.name}-router-throttles" }
}

# A node EC2 runs (and bills) past its boot grace with no watcher heartbeat serves no job.
resource "aws_cloudwatch_metric_alarm" "nodes_silent" {
  alarm_name          = "${var.name}-nodes-silent"
  alarm_description   = "A node has run past its 5-minute boot grace with no watcher heartbeat, in two scheduled checks running: it costs money and serves nothing. First: a shell through SSM Session Manager, then `supervisorctl status` and the watcher's log; stop the node if it cannot be fixed."
  namespace           = "TLFIF"
  metric_name         = local.nodes_silent_metric.name
  statistic           = "Maximum"
  period              = 60 * var.scheduled_check_minutes
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching" # EC2 could not be asked; the check's errors alarm
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = { service = local.nodes_silent_metric.service }

  tags = { Name = "${var.name}-nodes-silent" }
}

# The uptime probe (ping_check, outside the VPC, as a client would call): a 0 or no data at
# all (the probe itself is dead) in 2 of 3 runs. Not a Synthetics canary (ADR 0033).
resource "aws_cloudwatch_metric_alarm" "ping_dead" {
  alarm_name          = "${var.name}-ping-dead"
  alarm_description   = "GET /ping failed or went unchecked in 2 of the last 3 minutes: the API is down for every client (or the probe is). First: curl the ping_url output, then the ping_check log group for the status it saw."
  namespace           = "TLFIF"
  metric_name         = local.ping_metric.name
  statistic           = "Minimum"
  period              = 60 * var.ping_check_minutes
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = { service = local.ping_metric.service }

  tags = { Name = "${var.name}-ping-dead" }
}
