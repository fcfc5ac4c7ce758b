-- Jachai cloud schema, version 4: kiosk enrollment. Same rules as version 1: TEXT and BIGINT only.

-- One-time enrollment tokens: only the SHA-256 of the token is stored (the admin sees the token once);
-- `id` is a public handle for listing and revoking. A token is good once, until `expires_at`.
CREATE TABLE enroll_tokens (
    token_sha256 TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kiosk TEXT NOT NULL,
    label TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);

-- Every client certificate issued to a kiosk (serial in hex), with the token that paid for it and where
-- the request came from.
CREATE TABLE enrollments (
    serial TEXT PRIMARY KEY,
    kiosk TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    peer TEXT NOT NULL,
    cert_pem TEXT NOT NULL
);
