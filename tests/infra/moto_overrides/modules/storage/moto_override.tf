# moto evaluates the buckets' TLS-only policy (aws:SecureTransport) and the test talks plain
# HTTP to moto, so every PutObject would be refused: the policies are left out here (their
# statements are checked by infra/tests and tests/infra/test_properties.py).
resource "aws_s3_bucket_policy" "this" {
  for_each = {}
}
