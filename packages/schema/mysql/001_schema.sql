-- Ficus legacy schema (MariaDB 10.11 / MySQL 8, InnoDB, utf8mb4).
-- Applied by scripts/stack/lib-legacy.sh to a fresh database; every statement
-- is idempotent (IF NOT EXISTS / INSERT IGNORE) so re-applying is harmless.
--
-- Conventions
--   user_id     CHAR(36) ascii_bin, canonical lowercase UUID text.
--   *_us        BIGINT microseconds since the Unix epoch (UTC).
--   attr_key    ASCII [A-Za-z0-9_.:-]{1,64}, binary collation (case-sensitive).
--   attr_value  utf8mb4_bin, at most 1024 bytes; NULL = tombstone (deleted
--               key, kept with its timestamp so an older write cannot revive it).

SET NAMES utf8mb4;

-- One row per user that ever received an accepted update (the profile exists
-- even when every key is deleted). updated_us = newest timestamp applied.
-- The row is also the per-user lock: every update does SELECT ... FOR UPDATE
-- on it, which serialises concurrent updates of one user.
CREATE TABLE IF NOT EXISTS profiles (
  user_id     CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  updated_us  BIGINT NOT NULL,
  created_us  BIGINT NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Current value of every key, last write wins per key by updated_us.
-- Ties: a tombstone beats a value; between two values the bytewise greater wins.
CREATE TABLE IF NOT EXISTS profile_attributes (
  user_id     CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  attr_key    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  attr_value  VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  updated_us  BIGINT NOT NULL,
  PRIMARY KEY (user_id, attr_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Append-only history: one row per accepted update, as received
-- (attributes is the JSON object of the request, null = deletion).
CREATE TABLE IF NOT EXISTS profile_history (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ts_us       BIGINT NOT NULL,
  attributes  MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  idem_key    VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_us  BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY profile_history_user_ts (user_id, ts_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Idempotency-Key records, scope (user_id, idem_key), kept 24 h (rows older
-- than created_us + 24 h are treated as absent and purged lazily).
--   state 'pending': claimed by a request in flight; lease_token fences the
--   claimant and lease_until_us lets another request take over after a crash.
--   state 'done': response holds the exact 200 response body to replay.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id        CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  idem_key       VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  fingerprint    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,  -- SHA-256 of the raw body, hex
  state          ENUM('pending', 'done') NOT NULL,
  lease_token    CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  lease_until_us BIGINT NOT NULL,
  response       MEDIUMBLOB NULL,
  created_us     BIGINT NOT NULL,
  PRIMARY KEY (user_id, idem_key),
  KEY idempotency_keys_created (created_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Users of the non-migrated endpoint GET /api/v1/user/info.
CREATE TABLE IF NOT EXISTS users (
  user_id     CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name        VARCHAR(100) NOT NULL,
  email       VARCHAR(255) NOT NULL,
  country     CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at  DATETIME NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
