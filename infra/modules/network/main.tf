# The VPC has no NAT gateway, no load balancer and, by default, no interface endpoint: the
# always-on parts decide the bill (ADR 0010, 0011).
#   public subnets:  the GPU node; a public IPv4 only while it runs, no inbound rule at all.
#   private subnets: the VPC Lambdas and the Redis endpoints; IPv4 stays inside the VPC
#                    (S3 through the free gateway endpoint), IPv6 leaves through the
#                    egress-only gateway, which nothing on the internet can open inward.

resource "aws_vpc" "this" {
  # checkov:skip=CKV2_AWS_11:no inbound path exists to watch; flow logs bill ingestion per GB (ADR 0010); enable them for an investigation
  cidr_block                       = var.vpc_cidr
  assign_generated_ipv6_cidr_block = true
  enable_dns_support               = true
  enable_dns_hostnames             = true

  tags = { Name = var.name }
}

# Nothing may use the default security group: it allows all traffic between its members.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-default-unused" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_egress_only_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = length(var.availability_zones)

  vpc_id                          = aws_vpc.this.id
  availability_zone               = var.availability_zones[count.index]
  cidr_block                      = cidrsubnet(var.vpc_cidr, 2, count.index)
  ipv6_cidr_block                 = cidrsubnet(aws_vpc.this.ipv6_cidr_block, 8, count.index)
  assign_ipv6_address_on_creation = true
  # The node asks for its public IPv4 in the launch template; nothing else gets one.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public-${var.availability_zones[count.index]}", tier = "public" }
}

resource "aws_subnet" "private" {
  count = length(var.availability_zones)

  vpc_id                          = aws_vpc.this.id
  availability_zone               = var.availability_zones[count.index]
  cidr_block                      = cidrsubnet(var.vpc_cidr, 2, count.index + 2)
  ipv6_cidr_block                 = cidrsubnet(aws_vpc.this.ipv6_cidr_block, 8, count.index + 8)
  assign_ipv6_address_on_creation = true
  map_public_ip_on_launch         = false

  tags = { Name = "${var.name}-private-${var.availability_zones[count.index]}", tier = "private" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  route {
    ipv6_cidr_block = "::/0"
    gateway_id      = aws_internet_gateway.this.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id

  route {
    ipv6_cidr_block        = "::/0"
    egress_only_gateway_id = aws_egress_only_internet_gateway.this.id
  }

  tags = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "public" {
  count = length(aws_subnet.public)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  count = length(aws_subnet.private)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# S3 gateway endpoint: free, and keeps the node's and the router's S3 traffic off the
# internet gateway.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.public.id, aws_route_table.private.id]

  tags = { Name = "${var.name}-s3" }
}

# Only with router_ec2_path = "endpoint": USD 0.012/h per AZ (ADR 0011).
resource "aws_vpc_endpoint" "ec2" {
  count = var.router_ec2_path == "endpoint" ? 1 : 0

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.region}.ec2"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoint.id]
  private_dns_enabled = true

  tags = { Name = "${var.name}-ec2" }
}
