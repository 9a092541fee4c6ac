# One dashboard (GPU utilisation, VRAM, queue depth, p95 latency per route, CurrentSpendEUR)
# and few alarms: the first ten alarms of an account are free, each further one USD 0.10.
# Latency alarms are per route (HTTP API detailed metrics), so GET /result's long poll (up
# to 25 s by design) has its own threshold and never trips the 300 ms alarm of the others.

locals {
  # Metrics the code emits as EMF, dimension "service" (cost_publisher/handler.py, tlfif/check.py).
  spend_metric = { namespace = "TLFIF/Cost", name = "CurrentSpendEUR", service = "cost_publisher" }
  queue_metric = { name = "QueueDepth", service = "scheduled_check" }

  short_routes = {
    infer  = { method = "POST", resource = "/infer" }
    stop   = { method = "POST", resource = "/stop" }
    status = { method = "GET", resource = "/status" }
    ping   = { method = "GET", resource = "/ping" }
  }
  long_poll_ms = (var.long_poll_seconds + 2) * 1000

  # The webhook sender too: S3 runs it asynchronously, so an error there (a reply never
  # published) would otherwise pass unseen; a failing receiver is an outcome, not an error.
  guarded_functions = ["router", "scheduled_check", "budget_killer", "webhook_sender"]
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each = local.short_routes

  alarm_name          = "${var.name}-p95-${each.key}"
  alarm_description   = "p95 latency of ${each.value.method} ${each.value.resource} >= ${var.latency_alarm_ms} ms for 5 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.latency_alarm_ms
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  dimensions = {
    ApiId    = var.api_id
    Stage    = var.stage
    Method   = each.value.method
    Resource = each.value.resource
  }

  tags = { Name = "${var.name}-p95-${each.key}" }
}

resource "aws_cloudwatch_metric_alarm" "long_poll" {
  alarm_name          = "${var.name}-p95-result"
  alarm_description   = "p95 of GET /result/{id} above its longest wait plus 2 s: the long poll overruns"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 1
  threshold           = local.long_poll_ms
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]

  dimensions = {
    ApiId    = var.api_id
    Stage    = var.stage
    Method   = "GET"
    Resource = "/result/{id}"
  }

  tags = { Name = "${var.name}-p95-result" }
}

# The idle-miss safety net (the seed's "no inference 15 min & EC2 running"): if the watcher's
# own idle stop ever fails, a running node whose GPU stayed idle longer than any job may ask
# (30 min) is stopped by the alarm's EC2 action. A stopped node sends no data, which counts
# as not breaching, so the alarm never acts on a stopped node. One per node: the EC2 action
# stops the instance of the alarm's InstanceId dimension, so each node idles out alone.
resource "aws_cloudwatch_metric_alarm" "idle_miss" {
  count = length(var.instance_ids)

  alarm_name          = "${var.name}-idle-miss-${count.index}"
  alarm_description   = "GPU idle for ${var.idle_miss_minutes} min on running node-${count.index}: stop it (safety net)"
  namespace           = "CWAgent"
  metric_name         = "nvidia_smi_utilization_gpu"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = var.idle_miss_minutes
  datapoints_to_alarm = var.idle_miss_minutes
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = ["arn:aws:automate:${var.region}:ec2:stop", var.alerts_topic_arn]

  dimensions = {
    InstanceId = var.instance_ids[count.index]
  }

  tags = { Name = "${var.name}-idle-miss-${count.index}" }
}

# node_count arrived with ADR 0032: the one alarm of a stack from before is node-0's.
moved {
  from = aws_cloudwatch_metric_alarm.idle_miss
  to   = aws_cloudwatch_metric_alarm.idle_miss[0]
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${var.name}-lambda-errors"
  alarm_description   = "Errors in the router, the scheduled check, budget_killer or the webhook sender"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]

  metric_query {
    id          = "errors"
    expression  = join(" + ", [for f in local.guarded_functions : "FILL(e_${f}, 0)"])
    label       = "Errors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = toset(local.guarded_functions)
    content {
      id = "e_${metric_query.key}"
      metric {
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        period      = 300
        stat        = "Sum"
        dimensions  = { FunctionName = var.function_names[metric_query.key] }
      }
    }
  }

  tags = { Name = "${var.name}-lambda-errors" }
}

# Node mode only (serverless has no fixed memory): the seed's RED-003 70 % memory alarm.
resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  count = var.redis_mode == "node" ? 1 : 0

  alarm_name          = "${var.name}-redis-memory"
  alarm_description   = "Redis memory above 70 %: with noeviction, enqueues fail when it is full"
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 70
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]

  dimensions = {
    ReplicationGroupId = var.redis_name
  }

  tags = { Name = "${var.name}-redis-memory" }
}

locals {
  latency_metrics = concat(
    [for k, r in local.short_routes : ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.stage, "Method", r.method, "Resource", r.resource, { stat = "p95", label = "${r.method} ${r.resource}" }]],
    [["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.stage, "Method", "GET", "Resource", "/result/{id}", { stat = "p95", label = "GET /result/{id} (long poll)", yAxis = "right" }]],
  )

  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "GPU utilisation %"
        region  = var.region
        view    = "timeSeries"
        metrics = [for i, id in var.instance_ids : ["CWAgent", "nvidia_smi_utilization_gpu", "InstanceId", id, { stat = "Maximum", label = "node-${i}" }]]
        yAxis   = { left = { min = 0, max = 100 } }
        annotations = {
          horizontal = [{ label = "idle-miss: below 1 % for ${var.idle_miss_minutes} min stops the node", value = 1 }]
        }
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "VRAM"
        region = var.region
        view   = "timeSeries"
        metrics = flatten([for i, id in var.instance_ids : [
          ["CWAgent", "nvidia_smi_utilization_memory", "InstanceId", id, { stat = "Maximum", label = "node-${i} memory utilisation %" }],
          ["CWAgent", "nvidia_smi_memory_used", "InstanceId", id, { stat = "Maximum", label = "node-${i} used MiB", yAxis = "right" }],
        ]])
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title   = "Queue depth (pending jobs)"
        region  = var.region
        view    = "timeSeries"
        metrics = [["TLFIF", local.queue_metric.name, "service", local.queue_metric.service, { stat = "Maximum" }]]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title   = "p95 latency per route (ms)"
        region  = var.region
        view    = "timeSeries"
        metrics = local.latency_metrics
        annotations = {
          horizontal = [
            { label = "p95 alarm, short routes", value = var.latency_alarm_ms },
            { label = "p95 alarm, GET /result", value = local.long_poll_ms, yAxis = "right" },
          ]
        }
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 24, height = 6
      properties = {
        title   = "CurrentSpendEUR (month to date)"
        region  = var.region
        view    = "timeSeries"
        metrics = [[local.spend_metric.namespace, local.spend_metric.name, "service", local.spend_metric.service, { stat = "Maximum" }]]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
