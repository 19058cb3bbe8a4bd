CREATE TABLE "apple_push_certificates" (
	"organization_id" varchar(24) NOT NULL,
	"topic" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"private_key_encrypted" bytea NOT NULL,
	"serial_number" text NOT NULL,
	"not_before" timestamp (3) with time zone NOT NULL,
	"not_after" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "apple_push_certificates_organization_id_pk" PRIMARY KEY("organization_id")
);
--> statement-breakpoint
CREATE TABLE "apple_scep_challenges" (
	"organization_id" varchar(24) NOT NULL,
	"id" varchar(24) NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"challenge_hash" bytea NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"spent_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "apple_scep_challenges_organization_id_id_pk" PRIMARY KEY("organization_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "apple_scep_challenges_org_hash_idx" ON "apple_scep_challenges" USING btree ("organization_id","challenge_hash");--> statement-breakpoint
CREATE TABLE "apple_devices" (
	"organization_id" varchar(24) NOT NULL,
	"id" varchar(24) NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"state" text NOT NULL,
	"udid" text NOT NULL,
	"serial_number" text,
	"model" text,
	"model_name" text,
	"product_name" text,
	"os_version" text,
	"build_version" text,
	"device_name" text,
	"topic" text NOT NULL,
	"certificate_thumbprint" text NOT NULL,
	"push_token" bytea,
	"push_magic" text,
	"unlock_token_encrypted" bytea,
	"authenticated_at" timestamp (3) with time zone NOT NULL,
	"enrolled_at" timestamp (3) with time zone,
	"unenrolled_at" timestamp (3) with time zone,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "apple_devices_organization_id_id_pk" PRIMARY KEY("organization_id","id")
);
--> statement-breakpoint
CREATE INDEX "apple_devices_org_created_idx" ON "apple_devices" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "apple_devices_org_udid_idx" ON "apple_devices" USING btree ("organization_id","udid");
