"""Webhooks: a team's `webhook_url` is told, signed, about changes to its spirits' memory.

- `models`: WebhookDelivery (one event to send, its payload and state) and WebhookAttempt (one
  HTTP request: status, latency, error, an excerpt of the answer).
- `services`: `webhook_emit` (a delivery row in the caller's transaction, its task enqueued on
  commit), `webhook_attempt` (one signed POST, recorded), `webhook_send_again`.
- `urls_policy`: `check_url`, where a webhook may go (https, public addresses, the allowed hosts),
  at registration and before every attempt; the delivery connects to the address it checked.
- `signing`: the `X-Elephantasm-Signature` header (HMAC-SHA256 over "<timestamp>.<body>").
- `tasks`: the Celery task (queue "webhooks") that retries with exponential backoff, and the
  sweep that re-enqueues deliveries whose task was lost and deletes old ones.
"""
