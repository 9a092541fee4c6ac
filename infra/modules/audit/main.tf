# The audit trail and the usage figures (ADR 0034) as saved Logs Insights queries. No log
# group of its own: the audit events are lines in the groups that exist (the router's and
# the budget killer's Lambda groups, the node's watcher group), each with its retention; a
# group of their own would mean writing every line twice. Saved queries cost nothing; a
# query run costs its scan (USD 0.0063 per GB in eu-central-1).

locals {
  queries = {
    # The seed's api_latency: the gateway's access log, by route.
    api_latency = {
      log_groups = [var.access_log_group_name]
      query      = <<-EOT
        fields @timestamp, route, status, latencyMs
        | stats count(*) as requests, avg(latencyMs) as avg_ms, pct(latencyMs, 95) as p95_ms, max(latencyMs) as max_ms by route
        | sort p95_ms desc
      EOT
    }
    # Per user: each job's one line (job_answered) carries its tokens and node-seconds; the
    # idle tails are in audit_trail (action self_stop). An estimate, as GET /usage says.
    per_user_usage = {
      log_groups = [var.node_log_group_name]
      query      = <<-EOT
        filter event = "job_answered" and (written = 1 or written = "true")
        | stats count(*) as prompts, sum(promptTokens) as prompt_tokens, sum(completionTokens) as completion_tokens, sum(nodeSeconds) as node_seconds, sum(costEur) as cost_eur by sub
        | sort cost_eur desc
      EOT
    }
    # Who did what: stop, wake, cancel, budget resume, keys, the budget's stop, self-stops.
    audit_trail = {
      log_groups = concat(var.lambda_log_group_names, [var.node_log_group_name])
      query      = <<-EOT
        fields @timestamp, action, sub, outcome, jobId, keyId, lastJobId, idleSeconds, costEur, @log
        | filter event = "audit"
        | sort @timestamp desc
        | limit 500
      EOT
    }
  }
}

resource "aws_cloudwatch_query_definition" "this" {
  for_each = local.queries

  name            = "${var.name}/${each.key}"
  log_group_names = each.value.log_groups
  query_string    = each.value.query
}
