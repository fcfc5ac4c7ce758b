-- Jachai cloud schema, version 2: the HTTP side (admin console, web reports, public checks). Same rules as
-- version 1: TEXT and BIGINT only, natural or random keys, the same SQL on SQLite and PostgreSQL.

-- Console users: argon2id PHC hashes, one role each (admin manages users; reviewer decides; viewer reads).
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Console sessions: only the SHA-256 of the cookie's token is stored; the CSRF token is per session.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Every decision and every user change, with who and why.
CREATE TABLE audit_log (
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- Checks from the public pages: the original (and annotated) image in the object store by SHA-256.
CREATE TABLE checks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    original_sha256 TEXT NOT NULL,
    annotated_sha256 TEXT,
    report TEXT,
    error TEXT
);
