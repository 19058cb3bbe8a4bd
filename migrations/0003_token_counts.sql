CREATE TABLE "token_counts" (
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"shard" integer NOT NULL,
	"total" bigint DEFAULT 0 NOT NULL,
	"deleted" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "token_counts_organization_id_platform_shard_pk" PRIMARY KEY("organization_id","platform","shard")
);
--> statement-breakpoint
DROP INDEX "enrollment_tokens_org_created_idx";--> statement-breakpoint
DROP INDEX "enrollment_tokens_org_user_idx";