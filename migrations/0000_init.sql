CREATE TABLE "api_keys" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" "bytea" NOT NULL,
	"role" text,
	"permissions" text[] NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"enterprise_id" varchar(24) NOT NULL,
	"device_id" varchar(24),
	"mdm_user_id" varchar(24) NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"state" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"type" text NOT NULL,
	"sub_type" text NOT NULL,
	"language" text NOT NULL,
	"send_email" boolean NOT NULL,
	"email_text" text DEFAULT '' NOT NULL,
	"segment_id" integer,
	"link_secret" text NOT NULL,
	"enroll_code" text NOT NULL,
	"policy_assignments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"policy_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"vpp_location_id" varchar(24),
	"configuration" jsonb,
	"profiles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"applications" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"expire_at" timestamp (3) with time zone NOT NULL,
	"done_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enterprises" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"name" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"server_expiration_date" timestamp (3) with time zone,
	"mobile_config_signed" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"organization_id" varchar(24) NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_organization_id_scope_key_pk" PRIMARY KEY("organization_id","scope","key")
);
--> statement-breakpoint
CREATE TABLE "mdm_users" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"email" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"language" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"language" text DEFAULT 'en' NOT NULL,
	"plan_name" text NOT NULL,
	"plan_platforms" text[] NOT NULL,
	"plan_max_open_tokens" integer,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "organizations_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"platform" text NOT NULL,
	"name" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "segments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "segments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"organization_id" varchar(24) NOT NULL,
	"name" text NOT NULL,
	"parent_id" integer,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "token_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "token_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" varchar(24) NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"type" text NOT NULL,
	"actor_key_id" varchar(24),
	"at" timestamp (3) with time zone NOT NULL,
	"changes" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vpp_locations" (
	"id" varchar(24) PRIMARY KEY NOT NULL,
	"organization_id" varchar(24) NOT NULL,
	"name" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enterprises" ADD CONSTRAINT "enterprises_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mdm_users" ADD CONSTRAINT "mdm_users_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "segments" ADD CONSTRAINT "segments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vpp_locations" ADD CONSTRAINT "vpp_locations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_prefix_idx" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "api_keys_org_idx" ON "api_keys" USING btree ("organization_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_link_secret_idx" ON "enrollment_tokens" USING btree ("link_secret");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_open_code_idx" ON "enrollment_tokens" USING btree ("enroll_code") WHERE state = 'PENDING';--> statement-breakpoint
CREATE INDEX "enrollment_tokens_org_created_idx" ON "enrollment_tokens" USING btree ("organization_id","platform","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "enrollment_tokens_org_user_idx" ON "enrollment_tokens" USING btree ("organization_id","platform","mdm_user_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "enrollment_tokens_policy_ids_idx" ON "enrollment_tokens" USING gin ("policy_ids");--> statement-breakpoint
CREATE INDEX "enrollment_tokens_pending_expiry_idx" ON "enrollment_tokens" USING btree ("expire_at") WHERE state = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "enterprises_org_platform_idx" ON "enterprises" USING btree ("organization_id","platform");--> statement-breakpoint
CREATE UNIQUE INDEX "mdm_users_org_email_idx" ON "mdm_users" USING btree ("organization_id","email") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "mdm_users_org_created_idx" ON "mdm_users" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "policies_org_platform_created_idx" ON "policies" USING btree ("organization_id","platform","created_at","id");--> statement-breakpoint
CREATE INDEX "segments_org_created_idx" ON "segments" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "token_events_org_token_idx" ON "token_events" USING btree ("organization_id","token_id","id");--> statement-breakpoint
CREATE INDEX "vpp_locations_org_created_idx" ON "vpp_locations" USING btree ("organization_id","created_at","id");