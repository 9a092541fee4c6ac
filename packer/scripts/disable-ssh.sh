#!/usr/bin/env bash
# Last step of the bake: no SSH server is left in the image (the seed's "no SSH stance").
# Packer's own connection survives (ssh.service kills only its listener); nodes are reached
# through SSM Session Manager only.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
systemctl disable --now ssh.socket ssh.service || true
systemctl mask ssh.service ssh.socket
apt-get -y purge openssh-server
rm -f /home/*/.ssh/authorized_keys /root/.ssh/authorized_keys /etc/ssh/ssh_host_*
cloud-init clean --logs
