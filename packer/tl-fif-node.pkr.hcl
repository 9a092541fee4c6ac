# The TL-FIF GPU node AMI (HCL2, current Packer with the amazon plugin).
#   packer init packer/ && packer build -var-file=... packer/
# x86_64 only: g4dn (T4) instances are x86_64; the seed's arm64 Graviton image cannot boot
# there. The bake runs on a g4dn itself so the driver, vLLM and the model are smoke-tested
# on a T4 before the AMI exists (~20 minutes, about USD 0.25). On success the post-processor
# points the SSM parameter the launch template reads at the new AMI (README "Deploy").

packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      version = ">= 1.3.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "base_os" {
  type        = string
  default     = "ubuntu-24.04"
  description = "Base image; Ubuntu 24.04 LTS ships Python 3.12."
  validation {
    condition     = contains(["ubuntu-24.04"], var.base_os)
    error_message = "Only ubuntu-24.04 is built and checked."
  }
}

variable "model_id" {
  type        = string
  default     = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
  description = "Hugging Face repo of the model (safetensors); also the served model name."
}

variable "model_revision" {
  type        = string
  default     = "main"
  description = "Commit of the model repo; pin it for a reproducible image."
}

variable "vllm_version" {
  type        = string
  default     = "0.33.0"
  description = "vLLM release installed in its own venv."
}

variable "nvidia_driver" {
  type        = string
  default     = "570"
  description = "NVIDIA server driver branch (supports the T4)."
}

variable "builder_instance_type" {
  type        = string
  default     = "g4dn.xlarge"
  description = "Build on the node's own type so the smoke test runs on a T4."
}

variable "root_volume_gb" {
  type        = number
  default     = 24
  description = "Keep equal to node_root_volume_gb in infra/envs."
}

variable "ami_parameter_name" {
  type        = string
  default     = "/tl-fif/latest_ami_id"
  description = "SSM parameter the node's launch template resolves."
}

locals {
  timestamp         = regex_replace(timestamp(), "[- TZ:]", "")
  base_os_ami_names = {
    "ubuntu-24.04" = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
  }
  canonical_owner = "099720109477"
}

source "amazon-ebs" "node" {
  region          = var.region
  instance_type   = var.builder_instance_type
  ami_name        = "tl-fif-node-${local.timestamp}"
  ami_description = "TL-FIF GPU node: ${var.model_id} on vLLM ${var.vllm_version}, ${var.base_os}"

  source_ami_filter {
    filters = {
      name                = local.base_os_ami_names[var.base_os]
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = [local.canonical_owner]
    most_recent = true
  }

  ssh_username                              = "ubuntu"
  temporary_security_group_source_public_ip = true
  associate_public_ip_address               = true
  ena_support                               = true
  encrypt_boot                              = true
  imds_support                              = "v2.0"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.root_volume_gb
    volume_type           = "gp3"
    delete_on_termination = true
    encrypted             = true
  }

  tags = {
    Name           = "tl-fif-node-${local.timestamp}"
    "tl-fif"       = "gpu-node"
    project        = "tl-fif"
    base_os        = var.base_os
    model_id       = var.model_id
    model_revision = var.model_revision
    vllm_version   = var.vllm_version
    architecture   = "x86_64"
  }

  snapshot_tags = {
    Name    = "tl-fif-node-${local.timestamp}"
    project = "tl-fif"
  }

  run_tags = {
    Name    = "tl-fif-packer-builder"
    project = "tl-fif"
  }
}

build {
  name    = "tl-fif-node"
  sources = ["source.amazon-ebs.node"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/tlfif/files /tmp/tlfif/app"]
  }

  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/tlfif/files"
  }

  # The core and the watcher only: what the node's venv runs.
  provisioner "file" {
    sources     = ["${path.root}/../tlfif", "${path.root}/../watcher"]
    destination = "/tmp/tlfif/app/"
  }

  provisioner "shell" {
    script           = "${path.root}/scripts/provision.sh"
    execute_command  = "sudo env {{ .Vars }} bash '{{ .Path }}'" # keeps environment_vars
    environment_vars = [
      "MODEL_ID=${var.model_id}",
      "MODEL_REVISION=${var.model_revision}",
      "VLLM_VERSION=${var.vllm_version}",
      "NVIDIA_DRIVER=${var.nvidia_driver}",
      "FILES=/tmp/tlfif/files",
      "APP=/tmp/tlfif/app",
    ]
  }

  provisioner "shell" {
    script            = "${path.root}/scripts/disable-ssh.sh"
    execute_command   = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    expect_disconnect = true
  }

  post-processor "manifest" {
    output     = "${path.root}/packer-manifest.json"
    strip_path = true
  }

  # Publish: the launch template resolves this parameter at every launch (data type
  # aws:ec2:image, which EC2 validates). Roll-back is the same command with an older AMI id.
  post-processor "shell-local" {
    environment_vars = [
      "AWS_REGION=${var.region}",
      "AMI_PARAMETER=${var.ami_parameter_name}",
      "MANIFEST=${path.root}/packer-manifest.json",
    ]
    inline = [
      "AMI=$(jq -r '.builds[-1].artifact_id' \"$MANIFEST\" | cut -d: -f2)",
      "aws ssm put-parameter --region \"$AWS_REGION\" --name \"$AMI_PARAMETER\" --type String --data-type aws:ec2:image --overwrite --value \"$AMI\"",
      "echo \"published $AMI to $AMI_PARAMETER\"",
    ]
  }
}
