-- Jachai cloud schema, version 3: notifications on status change, sent from an outbox with retries.

-- One message to deliver: channel `webhook` (JSON POST) or `sms` (form POST to the gateway). `next_at` is
-- when to try next (a sender leases a row by moving it on); `sent_at` once delivered; a row given up on
-- after `max_attempts` keeps its last error and a `next_at` far in the future.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

-- How to reach the person who filed a web report (kept apart from the case, its claims and the export).
CREATE TABLE report_contacts (
    case_id TEXT PRIMARY KEY,
    phone TEXT NOT NULL
);
