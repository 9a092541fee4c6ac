# moto 5.2.5 does not implement DescribeSubnets' filter
# `ipv6-cidr-block-association.association-id`, by which the provider waits for a subnet's
# IPv6 block: the subnets are IPv4 only here (the VPC keeps its IPv6 block).
resource "aws_subnet" "public" {
  ipv6_cidr_block                 = null
  assign_ipv6_address_on_creation = false
}

resource "aws_subnet" "private" {
  ipv6_cidr_block                 = null
  assign_ipv6_address_on_creation = false
}
