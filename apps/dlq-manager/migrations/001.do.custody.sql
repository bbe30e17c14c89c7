-- Custody of dead letters, replay jobs and the audit. Applied by postgrator at start (src/db/migrate.ts).

CREATE TABLE dead_letters (
  id                 bigserial PRIMARY KEY,
  -- One row per dead letter at its source: kafka:<topic>:<partition>:<offset>, or rabbitmq:<queue>:<sha-256 of
  -- body and headers>. A copy stored again after a crash between insert and ack/commit hits this key.
  dedup_key          text        NOT NULL UNIQUE,
  source_broker      text        NOT NULL CHECK (source_broker IN ('kafka', 'rabbitmq')),
  source             text        NOT NULL,
  source_partition   integer,
  source_offset      bigint,
  message_id         text,
  record_key         text,
  body               bytea       NOT NULL,
  -- Header name -> base64 of the value's bytes (jsonb cannot hold NUL characters, which binary headers have).
  headers            jsonb       NOT NULL,
  -- The one model (transport's readDeadLetterModel), fields it could not know are absent.
  dialect            text        NOT NULL,
  reason             text,
  error_code         text,
  error_text         text,
  error_fingerprint  text        NOT NULL,
  original_broker    text,
  destination        text,
  routing_key        text,
  event_type         text,
  schema_id          integer,
  attempts           integer,
  first_failure      timestamptz,
  last_failure       timestamptz,
  model              jsonb       NOT NULL,
  state              text        NOT NULL DEFAULT 'new'
                                 CHECK (state IN ('new', 'replaying', 'replayed', 'discarded')),
  state_reason       text,
  replay_count       integer     NOT NULL DEFAULT 0,
  first_seen         timestamptz NOT NULL DEFAULT now(),
  last_seen          timestamptz NOT NULL DEFAULT now(),
  seen_count         integer     NOT NULL DEFAULT 1
);
CREATE INDEX dead_letters_source ON dead_letters (source, id);
CREATE INDEX dead_letters_state ON dead_letters (state, id);
CREATE INDEX dead_letters_group ON dead_letters (source, event_type, reason, error_fingerprint);
CREATE INDEX dead_letters_first_seen ON dead_letters (first_seen);

CREATE TABLE replay_jobs (
  id              bigserial PRIMARY KEY,
  state           text        NOT NULL
                              CHECK (state IN ('running', 'paused', 'cancelled', 'completed')),
  selection       jsonb       NOT NULL,
  target          jsonb,
  rate_per_second integer     NOT NULL,
  dry_run         boolean     NOT NULL,
  actor           text        NOT NULL,
  total           integer     NOT NULL,
  report          jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);

CREATE TABLE replay_items (
  job_id          bigint      NOT NULL REFERENCES replay_jobs (id),
  position        integer     NOT NULL,
  dead_letter_id  bigint      NOT NULL REFERENCES dead_letters (id),
  -- pending: not confirmed by a broker yet (a restarted job sends it again); sent: the broker acked it.
  state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
  detail          text,
  done_at         timestamptz,
  PRIMARY KEY (job_id, position)
);
CREATE INDEX replay_items_pending ON replay_items (job_id, position) WHERE state = 'pending';

CREATE TABLE audit (
  id              bigserial PRIMARY KEY,
  at              timestamptz NOT NULL DEFAULT now(),
  actor           text        NOT NULL,
  action          text        NOT NULL,
  dead_letter_id  bigint,
  job_id          bigint,
  detail          jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_dead_letter ON audit (dead_letter_id);

-- The audit is append-only: no update or delete gets through, whoever asks.
CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit is append-only';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
