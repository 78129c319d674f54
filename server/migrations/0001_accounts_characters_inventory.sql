-- Accounts, their characters and what the characters carry.
-- Migrations are applied in file-name order, each once, in its own transaction; never edit one
-- that has shipped (the runner refuses a changed checksum): add a new file instead.

CREATE TABLE accounts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL for guests; registered names are unique.
  username      text UNIQUE,
  -- scrypt hash (see server/src/auth); NULL for guests.
  password_hash text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- One character per account for now (account_id is unique).
CREATE TABLE characters (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
  name       text NOT NULL,
  zone       integer NOT NULL,
  x          double precision NOT NULL,
  y          double precision NOT NULL,
  hp         integer NOT NULL,
  level      integer NOT NULL,
  xp         bigint NOT NULL,
  -- Set by the world on every change; a save with a version not above this one is ignored.
  version    bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inventory_items (
  character_id uuid NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
  item_id      text NOT NULL CHECK (length(item_id) BETWEEN 1 AND 64),
  quantity     bigint NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (character_id, item_id)
);
