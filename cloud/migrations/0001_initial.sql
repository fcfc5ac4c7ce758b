-- Jachai cloud schema, version 1. The same SQL runs on SQLite and PostgreSQL: only TEXT and BIGINT columns,
-- natural keys, no autoincrement, no binary columns (blob bytes live in the object store).

-- One row per (kiosk, outbox seq): the idempotency key of the whole uplink.
CREATE TABLE cases (
    kiosk TEXT NOT NULL,
    seq BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    verdict TEXT,
    risk BIGINT,
    claims TEXT NOT NULL,
    report TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (kiosk, seq)
);

-- The images a case names (role: gd_copy, phone_box, ...); the bytes are in the object store under blobs/.
CREATE TABLE case_blobs (
    kiosk TEXT NOT NULL,
    seq BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (kiosk, seq, sha256, role)
);

-- A seq that arrived again with a different case id (a reinstalled kiosk reusing seqs): kept, not dropped,
-- so acking it loses nothing; an operator sorts it out.
CREATE TABLE case_conflicts (
    kiosk TEXT NOT NULL,
    seq BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (kiosk, seq, case_id)
);

-- Whole blobs, checked against their SHA-256 and put into the object store.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    stored_at BIGINT NOT NULL
);

-- Chunks staged in the object store under staging/{sha256}/, one row once the chunk object is written.
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL,
    idx BIGINT NOT NULL,
    chunk_count BIGINT NOT NULL,
    len BIGINT NOT NULL,
    PRIMARY KEY (sha256, idx)
);

-- Fleet health: the latest status and heartbeat of every kiosk.
CREATE TABLE kiosks (
    kiosk TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    last_seen BIGINT NOT NULL,
    backlog BIGINT NOT NULL,
    index_version BIGINT NOT NULL,
    decision_seq BIGINT NOT NULL,
    app_version TEXT NOT NULL
);

-- Lookup hits and refusals reported by kiosks.
CREATE TABLE events (
    kiosk TEXT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Uplink messages that could not be read (never acked; the kiosk keeps them).
CREATE TABLE rejected (
    kiosk TEXT NOT NULL,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    size BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Signed admin decisions, gap-free per kiosk from 1; `signed` is the exact payload published.
CREATE TABLE decisions (
    kiosk TEXT NOT NULL,
    seq BIGINT NOT NULL,
    case_seq BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    signed TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (kiosk, seq)
);

-- The stolen-IMEI index: one row per version with its state hash, entry count and the signed delta (the
-- exact payload published) that made it from the version before. Heads are signed fresh when published.
CREATE TABLE stolen_versions (
    version BIGINT PRIMARY KEY,
    state_hash TEXT NOT NULL,
    entry_count BIGINT NOT NULL,
    signed_delta TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The index's current contents.
CREATE TABLE stolen_imeis (
    imei TEXT PRIMARY KEY,
    reported_at TEXT NOT NULL,
    theft_location TEXT NOT NULL,
    version BIGINT NOT NULL
);
