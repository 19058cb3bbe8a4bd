-- One row per (token, policy it carries): a policy-filtered list page is a range of this primary
-- key, read in either direction, instead of sorting every token that carries the policy.
-- `deleted` is INCLUDEd so show-deleted=false is answered from the index (stored DELETED only:
-- EXPIRED is derived from the time, as everywhere else).
CREATE TABLE "token_policies" (
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"policy_id" varchar(24) NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"deleted" boolean NOT NULL,
	CONSTRAINT "token_policies_pk" PRIMARY KEY("organization_id","platform","policy_id","created_at","token_id") INCLUDE ("deleted")
);
--> statement-breakpoint
-- Exact totals per policy, sharded like token_counts so concurrent creates do not queue on one row.
CREATE TABLE "token_policy_counts" (
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"policy_id" varchar(24) NOT NULL,
	"shard" integer NOT NULL,
	"total" bigint DEFAULT 0 NOT NULL,
	"deleted" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "token_policy_counts_pk" PRIMARY KEY("organization_id","platform","policy_id","shard")
);
--> statement-breakpoint
-- DISTINCT: a token lists a policy once (token-input.ts), but the key must hold even if not.
CREATE FUNCTION "token_policies_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_policies (organization_id, platform, policy_id, created_at, token_id, deleted)
  SELECT DISTINCT organization_id, platform, unnest(policy_ids), created_at, id, state = 'DELETED'
  FROM new_rows WHERE cardinality(policy_ids) > 0;
  INSERT INTO token_policy_counts AS c (organization_id, platform, policy_id, shard, total, deleted)
  SELECT organization_id, platform, policy_id, floor(random() * 8)::int, count(*), count(*) FILTER (WHERE deleted)
  FROM (SELECT DISTINCT organization_id, platform, unnest(policy_ids) AS policy_id, id, state = 'DELETED' AS deleted
        FROM new_rows WHERE cardinality(policy_ids) > 0) t
  GROUP BY organization_id, platform, policy_id
  ON CONFLICT (organization_id, platform, policy_id, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Only rows whose entries change are touched (policies, deleted or not, creation time): a
-- redeem, a sweep or a rename costs a join of the statement's own rows and nothing more.
-- The old entries go, the new ones come; the counters take the difference per policy.
CREATE FUNCTION "token_policies_after_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM token_policies p
  USING (SELECT DISTINCT o.organization_id, o.platform, unnest(o.policy_ids) AS policy_id, o.created_at, o.id
         FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE cardinality(o.policy_ids) > 0
           AND (o.organization_id, o.platform, o.policy_ids, o.created_at, o.state = 'DELETED')
               IS DISTINCT FROM (n.organization_id, n.platform, n.policy_ids, n.created_at, n.state = 'DELETED')) gone
  WHERE p.organization_id = gone.organization_id AND p.platform = gone.platform AND p.policy_id = gone.policy_id
    AND p.created_at = gone.created_at AND p.token_id = gone.id;
  INSERT INTO token_policies (organization_id, platform, policy_id, created_at, token_id, deleted)
  SELECT DISTINCT n.organization_id, n.platform, unnest(n.policy_ids), n.created_at, n.id, n.state = 'DELETED'
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE cardinality(n.policy_ids) > 0
    AND (o.organization_id, o.platform, o.policy_ids, o.created_at, o.state = 'DELETED')
        IS DISTINCT FROM (n.organization_id, n.platform, n.policy_ids, n.created_at, n.state = 'DELETED');
  INSERT INTO token_policy_counts AS c (organization_id, platform, policy_id, shard, total, deleted)
  SELECT organization_id, platform, policy_id, floor(random() * 8)::int, sum(sign), coalesce(sum(sign) FILTER (WHERE deleted), 0)
  FROM (SELECT DISTINCT n.organization_id, n.platform, unnest(n.policy_ids) AS policy_id, n.id, n.state = 'DELETED' AS deleted, 1 AS sign
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE cardinality(n.policy_ids) > 0
          AND (o.organization_id, o.platform, o.policy_ids, o.state = 'DELETED')
              IS DISTINCT FROM (n.organization_id, n.platform, n.policy_ids, n.state = 'DELETED')
        UNION ALL
        SELECT DISTINCT o.organization_id, o.platform, unnest(o.policy_ids), o.id, o.state = 'DELETED', -1
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE cardinality(o.policy_ids) > 0
          AND (o.organization_id, o.platform, o.policy_ids, o.state = 'DELETED')
              IS DISTINCT FROM (n.organization_id, n.platform, n.policy_ids, n.state = 'DELETED')) t
  GROUP BY organization_id, platform, policy_id
  HAVING sum(sign) <> 0 OR coalesce(sum(sign) FILTER (WHERE deleted), 0) <> 0
  ON CONFLICT (organization_id, platform, policy_id, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "token_policies_after_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM token_policies p
  USING (SELECT DISTINCT organization_id, platform, unnest(policy_ids) AS policy_id, created_at, id
         FROM old_rows WHERE cardinality(policy_ids) > 0) gone
  WHERE p.organization_id = gone.organization_id AND p.platform = gone.platform AND p.policy_id = gone.policy_id
    AND p.created_at = gone.created_at AND p.token_id = gone.id;
  INSERT INTO token_policy_counts AS c (organization_id, platform, policy_id, shard, total, deleted)
  SELECT organization_id, platform, policy_id, floor(random() * 8)::int, -count(*), -count(*) FILTER (WHERE deleted)
  FROM (SELECT DISTINCT organization_id, platform, unnest(policy_ids) AS policy_id, id, state = 'DELETED' AS deleted
        FROM old_rows WHERE cardinality(policy_ids) > 0) t
  GROUP BY organization_id, platform, policy_id
  ON CONFLICT (organization_id, platform, policy_id, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_policies_insert" AFTER INSERT ON "enrollment_tokens"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_policies_after_insert"();
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_policies_update" AFTER UPDATE ON "enrollment_tokens"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_policies_after_update"();
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_policies_delete" AFTER DELETE ON "enrollment_tokens"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_policies_after_delete"();
--> statement-breakpoint
-- Backfill: the tokens written before these triggers existed (the triggers' lock on
-- enrollment_tokens holds writers off until this migration commits).
INSERT INTO token_policies (organization_id, platform, policy_id, created_at, token_id, deleted)
SELECT DISTINCT organization_id, platform, unnest(policy_ids), created_at, id, state = 'DELETED'
FROM enrollment_tokens WHERE cardinality(policy_ids) > 0;
--> statement-breakpoint
INSERT INTO token_policy_counts (organization_id, platform, policy_id, shard, total, deleted)
SELECT organization_id, platform, policy_id, 0, count(*), count(*) FILTER (WHERE deleted)
FROM token_policies GROUP BY organization_id, platform, policy_id;
