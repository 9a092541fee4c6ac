"""The OpenAI-compatible surface: POST /v1/chat/completions, POST /v1/completions and
GET /v1/models, in OpenAI's shapes, errors included (ADR 0024)."""
