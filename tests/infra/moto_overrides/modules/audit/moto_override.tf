# moto 5.2.5 does not implement PutQueryDefinition (saved Logs Insights queries): they are
# left out here (infra/tests checks them in the plan).
resource "aws_cloudwatch_query_definition" "this" {
  for_each = {}
}
