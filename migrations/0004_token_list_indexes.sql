-- List pages read ids from these indexes alone (state is INCLUDEd for the show-deleted filter),
-- then fetch the page's rows by id: deep pages stay cheap at hundreds of thousands of tokens.
CREATE INDEX "enrollment_tokens_list_created_idx" ON "enrollment_tokens" ("organization_id", "platform", "created_at" DESC, "id" DESC) INCLUDE ("state");
--> statement-breakpoint
CREATE INDEX "enrollment_tokens_list_user_idx" ON "enrollment_tokens" ("organization_id", "platform", "mdm_user_id", "created_at" DESC, "id" DESC) INCLUDE ("state");
--> statement-breakpoint
CREATE INDEX "enrollment_tokens_list_name_idx" ON "enrollment_tokens" ("organization_id", "platform", "display_name", "id") INCLUDE ("state");
--> statement-breakpoint
-- Exact totals for the unfiltered list, kept in the transaction of every change to tokens.
CREATE FUNCTION "token_counts_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted)
  SELECT organization_id, platform, floor(random() * 8)::int, count(*), count(*) FILTER (WHERE state = 'DELETED')
  FROM new_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "token_counts_after_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted)
  SELECT n.organization_id, n.platform, floor(random() * 8)::int, 0,
         count(*) FILTER (WHERE n.state = 'DELETED' AND o.state <> 'DELETED')
       - count(*) FILTER (WHERE o.state = 'DELETED' AND n.state <> 'DELETED')
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  GROUP BY n.organization_id, n.platform
  HAVING count(*) FILTER (WHERE (n.state = 'DELETED') <> (o.state = 'DELETED')) > 0
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "token_counts_after_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted)
  SELECT organization_id, platform, floor(random() * 8)::int, -count(*), -count(*) FILTER (WHERE state = 'DELETED')
  FROM old_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_count_insert" AFTER INSERT ON "enrollment_tokens"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_counts_after_insert"();
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_count_update" AFTER UPDATE ON "enrollment_tokens"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_counts_after_update"();
--> statement-breakpoint
CREATE TRIGGER "enrollment_tokens_count_delete" AFTER DELETE ON "enrollment_tokens"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "token_counts_after_delete"();
--> statement-breakpoint
INSERT INTO token_counts (organization_id, platform, shard, total, deleted)
SELECT organization_id, platform, 0, count(*), count(*) FILTER (WHERE state = 'DELETED')
FROM enrollment_tokens GROUP BY organization_id, platform;
