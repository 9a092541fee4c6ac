#!/bin/sh
# The router run by the Lambda Web Adapter (ADR 0028), the handler of the optional streaming
# edge: the adapter's layer runs this through AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, waits
# for AWS_LWA_READINESS_CHECK_PATH to answer, then forwards each function-URL request to
# 127.0.0.1:$AWS_LWA_PORT and streams the response back (AWS_LWA_INVOKE_MODE=response_stream).
# The same ASGI app and command as locally (router/asgi.py, local/stack.py); the router
# writes its own access lines, so uvicorn's are off, and reads no X-Forwarded-For: every
# request comes from the adapter on loopback, so the per-address limits see one address
# here (ADR 0028) rather than whatever a client claims.
cd "$(dirname "$0")/.." || exit 1
exec python3 -m uvicorn --factory router.asgi:create_app_from_env \
    --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" --no-access-log --no-proxy-headers
