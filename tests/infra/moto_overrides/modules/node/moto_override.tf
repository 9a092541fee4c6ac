# moto 5.2.5 does not implement MonitorInstances, which `monitoring = true` calls.
resource "aws_instance" "node" {
  monitoring = false
}
