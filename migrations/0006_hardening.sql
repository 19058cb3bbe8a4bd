CREATE TABLE "rate_limit_counters" (
	"organization_id" varchar(24) NOT NULL,
	"bucket" text NOT NULL,
	"hits" integer NOT NULL,
	"window_ends_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "rate_limit_counters_organization_id_bucket_pk" PRIMARY KEY("organization_id","bucket")
);
--> statement-breakpoint
CREATE INDEX "email_outbox_org_created_idx" ON "email_outbox" USING btree ("organization_id","created_at");
