#!/usr/bin/env bash
# Bakes the TL-FIF GPU node (run by tl-fif-node.pkr.hcl on a g4dn builder as root).
# Inputs (environment): MODEL_ID, MODEL_REVISION, VLLM_VERSION, NVIDIA_DRIVER, FILES, APP.
# Idempotent steps, loud failure: any error fails the bake and no AMI is published.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive

: "${MODEL_ID:?}" "${MODEL_REVISION:?}" "${VLLM_VERSION:?}" "${NVIDIA_DRIVER:?}" "${FILES:?}" "${APP:?}"
MODEL_DIR="/opt/models/${MODEL_ID##*/}"

# --- OS packages: Python 3.12 (Ubuntu 24.04's), a C compiler (Triton builds its launchers
# at run time), the NVIDIA server driver. The CUDA runtime comes with vLLM's wheels.
cloud-init status --wait || true
apt-get update
apt-get -y dist-upgrade
apt-get -y install --no-install-recommends \
    python3 python3-venv python3-dev build-essential curl jq ca-certificates \
    ubuntu-drivers-common
ubuntu-drivers install --gpgpu "nvidia:${NVIDIA_DRIVER}-server"
apt-get -y install --no-install-recommends "nvidia-utils-${NVIDIA_DRIVER}-server"

# --- Users: the engine and the watcher run unprivileged, each as its own user.
id vllm >/dev/null 2>&1 || useradd --system --home-dir /var/cache/vllm --shell /usr/sbin/nologin vllm
id tlfif >/dev/null 2>&1 || useradd --system --home-dir /opt/tlfif --shell /usr/sbin/nologin tlfif

# --- vLLM in its own venv, and the model's safetensors (vLLM cannot load the seed's .gguf).
python3 -m venv /opt/vllm/venv
/opt/vllm/venv/bin/pip install --no-cache-dir --upgrade pip
/opt/vllm/venv/bin/pip install --no-cache-dir "vllm==${VLLM_VERSION}"
mkdir -p "${MODEL_DIR}"
/opt/vllm/venv/bin/python - <<PY
from huggingface_hub import snapshot_download
snapshot_download(
    repo_id="${MODEL_ID}",
    revision="${MODEL_REVISION}",
    local_dir="${MODEL_DIR}",
    allow_patterns=["*.json", "*.safetensors", "tokenizer.model"],
)
PY
test -n "$(find "${MODEL_DIR}" -name '*.safetensors' -print -quit)"
chown -R root:root /opt/models && chmod -R a+rX /opt/models

# --- The watcher in its own venv: the core (tlfif/) and the watcher only, no web framework.
python3 -m venv /opt/tlfif/venv
/opt/tlfif/venv/bin/pip install --no-cache-dir --upgrade pip
/opt/tlfif/venv/bin/pip install --no-cache-dir -r "${FILES}/requirements-watcher.txt"
mkdir -p /opt/tlfif/app /opt/tlfif/bin /etc/tlfif
cp -r "${APP}/tlfif" "${APP}/watcher" /opt/tlfif/app/
# The library without its client tier (tlfif/client/): the node serves, it is no client.
rm -rf /opt/tlfif/app/tlfif/client
find /opt/tlfif/app -name '__pycache__' -prune -exec rm -rf {} +
/opt/tlfif/venv/bin/python -m compileall -q /opt/tlfif/app
install -m 0755 "${FILES}/tlfif-node-env.py" /opt/tlfif/bin/tlfif-node-env.py

# --- Node files: systemd units, supervisord (the same file as the local stack), settings.
install -m 0644 "${FILES}/vllm.service" "${FILES}/tlfif-node-env.service" \
    "${FILES}/tlfif-watcher.service" /etc/systemd/system/
install -m 0644 "${FILES}/tlfif.tmpfiles.conf" /etc/tmpfiles.d/tlfif.conf
install -m 0644 "${FILES}/supervisord-watcher.conf" /etc/tlfif/supervisord-watcher.conf
install -m 0644 "${FILES}/amazon-cloudwatch-agent.json" /etc/tlfif/amazon-cloudwatch-agent.json
install -m 0644 "${FILES}/watcher.env" /etc/tlfif/watcher.env
echo "TLFIF_WATCHER_ENGINE_MODEL=${MODEL_ID}" >> /etc/tlfif/watcher.env
printf 'MODEL_DIR=%s\nMODEL_ID=%s\n' "${MODEL_DIR}" "${MODEL_ID}" > /etc/tlfif/vllm.env
systemd-tmpfiles --create /etc/tmpfiles.d/tlfif.conf

# --- CloudWatch agent (GPU metrics, the watcher's log and its EMF lines) and SSM agent
# (Ubuntu's AMIs ship it as a snap; Session Manager is the only way in).
curl -fsSL -o /tmp/amazon-cloudwatch-agent.deb \
    https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb
dpkg -i /tmp/amazon-cloudwatch-agent.deb
rm -f /tmp/amazon-cloudwatch-agent.deb
snap list amazon-ssm-agent >/dev/null 2>&1 || snap install amazon-ssm-agent --classic
systemctl enable snap.amazon-ssm-agent.amazon-ssm-agent.service

systemctl daemon-reload
systemd-analyze verify vllm.service tlfif-node-env.service tlfif-watcher.service
systemctl enable vllm.service tlfif-node-env.service tlfif-watcher.service

# --- Smoke test on the builder's T4: the engine loads the model and answers one prompt.
nvidia-smi
systemctl start vllm.service
for _ in $(seq 1 120); do
    curl -fs http://127.0.0.1:8000/v1/models >/dev/null && break
    sleep 5
done
curl -fs http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \
    -d "{\"model\": \"${MODEL_ID}\", \"max_tokens\": 8, \"messages\": [{\"role\": \"user\", \"content\": \"Say ok\"}]}" \
    | jq -e '.choices[0].message.content'
systemctl stop vllm.service

# --- Leave nothing behind that a node does not need.
apt-get -y autoremove --purge
apt-get clean
rm -rf /root/.cache /var/cache/vllm/* /tmp/* /var/log/tlfif/*
journalctl --rotate && journalctl --vacuum-time=1s
