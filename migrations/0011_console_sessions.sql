CREATE TABLE "console_sessions" (
	"organization_id" varchar(24) NOT NULL,
	"secret_hash" "bytea" NOT NULL,
	"api_key_id" varchar(24) NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "console_sessions_organization_id_secret_hash_pk" PRIMARY KEY("organization_id","secret_hash")
);
--> statement-breakpoint
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "console_sessions_org_key_idx" ON "console_sessions" USING btree ("organization_id","api_key_id");
