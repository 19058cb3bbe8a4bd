-- A version of each (organization, platform) token list: every committed change to its tokens
-- adds the rows it touched, so two snapshots that read the same sum saw the same tokens in the
-- same places. Kept by the counters' own triggers: no extra write per statement.
ALTER TABLE "token_counts" ADD COLUMN "changes" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- Boundary keys of deep list pages: the token at `position` of list `shape` when the list's
-- version was `version`. A deep page starts from the nearest one at the current version instead
-- of walking the offset (src/modules/enrollment-tokens/token-page-marks.repo.ts).
CREATE TABLE "token_page_marks" (
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"shape" text NOT NULL,
	"version" bigint NOT NULL,
	"position" bigint NOT NULL,
	"token_id" varchar(24) NOT NULL,
	CONSTRAINT "token_page_marks_pk" PRIMARY KEY("organization_id","platform","shape","version","position")
);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "token_counts_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted, changes)
  SELECT organization_id, platform, floor(random() * 8)::int, count(*), count(*) FILTER (WHERE state = 'DELETED'), count(*)
  FROM new_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted, changes = c.changes + excluded.changes;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Every updated row counts now, not only those whose DELETED flipped: any change may move a
-- token in some sorted list.
CREATE OR REPLACE FUNCTION "token_counts_after_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted, changes)
  SELECT n.organization_id, n.platform, floor(random() * 8)::int, 0,
         count(*) FILTER (WHERE n.state = 'DELETED' AND o.state <> 'DELETED')
       - count(*) FILTER (WHERE o.state = 'DELETED' AND n.state <> 'DELETED'),
         count(*)
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  GROUP BY n.organization_id, n.platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET deleted = c.deleted + excluded.deleted, changes = c.changes + excluded.changes;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "token_counts_after_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted, changes)
  SELECT organization_id, platform, floor(random() * 8)::int, -count(*), -count(*) FILTER (WHERE state = 'DELETED'), count(*)
  FROM old_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted, changes = c.changes + excluded.changes;
  RETURN NULL;
END $$;
