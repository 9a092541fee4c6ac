variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "region" {
  description = "Region, for endpoint service names."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "AZs for one public and one private subnet each."
  type        = list(string)
}

variable "router_ec2_path" {
  description = "dualstack or endpoint (an EC2 interface endpoint in each private subnet)."
  type        = string
}
