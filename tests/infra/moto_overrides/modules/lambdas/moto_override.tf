# moto 5.2.5 implements no Cloud Control API: the function URL's lambda:InvokeFunction
# statement (ADR 0028) is left out here; its shape is checked by tests/infra/test_properties.py.
resource "aws_cloudcontrolapi_resource" "function_url_invoke" {
  for_each = {}
}
