-- The user search (ILIKE '%...%' on email and name) reads a trigram index where the database
-- has pg_trgm (PGlite loads it; most PostgreSQL installations ship it in contrib). Without the
-- extension, or without the right to create it, the search still works, on its length limit alone.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'pg_trgm could not be created (%): the user search runs without its index', SQLERRM;
END $$;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX IF NOT EXISTS "mdm_users_search_idx" ON "mdm_users"
      USING gin ("email" gin_trgm_ops, "name" gin_trgm_ops) WHERE "deleted_at" IS NULL;
  END IF;
END $$;
--> statement-breakpoint
-- Every change to a key or an organization is announced, so that each server process drops
-- what it cached of it at once, whoever made the change (the API, the command line, another
-- server): a revoked key answers 401 on its next request everywhere.
CREATE FUNCTION "api_keys_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('openroll_api_keys', OLD.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "api_keys_notify_change" AFTER UPDATE OR DELETE ON "api_keys"
  FOR EACH ROW EXECUTE FUNCTION "api_keys_notify_change"();
--> statement-breakpoint
CREATE FUNCTION "organizations_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('openroll_api_keys', 'org:' || OLD.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "organizations_notify_change" AFTER UPDATE OR DELETE ON "organizations"
  FOR EACH ROW EXECUTE FUNCTION "organizations_notify_change"();
