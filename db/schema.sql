-- The fully migrated database, as its own catalog describes it (test/helpers/sql-catalog.ts):
-- what every migration in migrations/ adds up to. Refresh with `npm run db:sql`;
-- test/db/sql-snapshots.test.ts fails when this file and the migrations disagree.

CREATE EXTENSION pg_trgm;

CREATE TABLE api_keys (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  name text NOT NULL,
  prefix text NOT NULL,
  key_hash bytea NOT NULL,
  role text,
  permissions text[] NOT NULL,
  expires_at timestamp(3) with time zone,
  revoked_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT api_keys_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT api_keys_pkey PRIMARY KEY (id)
);
CREATE INDEX api_keys_org_idx ON public.api_keys USING btree (organization_id, id);
CREATE INDEX api_keys_prefix_idx ON public.api_keys USING btree (prefix);
CREATE TRIGGER api_keys_notify_change AFTER DELETE OR UPDATE ON public.api_keys FOR EACH ROW EXECUTE FUNCTION api_keys_notify_change();

CREATE TABLE apple_devices (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  state text NOT NULL,
  udid text NOT NULL,
  serial_number text,
  model text,
  model_name text,
  product_name text,
  os_version text,
  build_version text,
  device_name text,
  topic text NOT NULL,
  certificate_thumbprint text NOT NULL,
  push_token bytea,
  push_magic text,
  unlock_token_encrypted bytea,
  authenticated_at timestamp(3) with time zone NOT NULL,
  enrolled_at timestamp(3) with time zone,
  unenrolled_at timestamp(3) with time zone,
  last_seen_at timestamp(3) with time zone NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT apple_devices_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE INDEX apple_devices_org_created_idx ON public.apple_devices USING btree (organization_id, created_at, id);
CREATE UNIQUE INDEX apple_devices_org_enrolled_udid_idx ON public.apple_devices USING btree (organization_id, udid) WHERE (state = 'ENROLLED'::text);
CREATE INDEX apple_devices_org_udid_idx ON public.apple_devices USING btree (organization_id, udid);

CREATE TABLE apple_push_certificates (
  organization_id character varying(24) NOT NULL,
  topic text NOT NULL,
  certificate_pem text NOT NULL,
  private_key_encrypted bytea NOT NULL,
  serial_number text NOT NULL,
  not_before timestamp(3) with time zone NOT NULL,
  not_after timestamp(3) with time zone NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT apple_push_certificates_organization_id_pk PRIMARY KEY (organization_id)
);

CREATE TABLE apple_push_outbox (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  device_id character varying(24) NOT NULL,
  status text NOT NULL,
  attempts integer DEFAULT 0 NOT NULL,
  next_attempt_at timestamp(3) with time zone NOT NULL,
  last_attempt_at timestamp(3) with time zone,
  response_status integer,
  last_error text,
  apns_id text,
  refused_token bytea,
  lease_token text,
  sent_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT apple_push_outbox_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX apple_push_outbox_org_device_pending_idx ON public.apple_push_outbox USING btree (organization_id, device_id) WHERE (status = 'pending'::text);
CREATE INDEX apple_push_outbox_org_device_refused_idx ON public.apple_push_outbox USING btree (organization_id, device_id) WHERE (refused_token IS NOT NULL);
CREATE INDEX apple_push_outbox_org_due_idx ON public.apple_push_outbox USING btree (organization_id, next_attempt_at) WHERE (status = 'pending'::text);

CREATE TABLE apple_scep_challenges (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  challenge_hash bytea NOT NULL,
  expires_at timestamp(3) with time zone NOT NULL,
  spent_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT apple_scep_challenges_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX apple_scep_challenges_org_hash_idx ON public.apple_scep_challenges USING btree (organization_id, challenge_hash);
CREATE UNIQUE INDEX apple_scep_challenges_org_token_unspent_idx ON public.apple_scep_challenges USING btree (organization_id, token_id) WHERE (spent_at IS NULL);

CREATE TABLE captured_emails (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  outbox_id character varying(24) NOT NULL,
  message_id text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  raw text NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT captured_emails_pkey PRIMARY KEY (id)
);
CREATE INDEX captured_emails_created_idx ON public.captured_emails USING btree (created_at, id);

CREATE TABLE certificate_authorities (
  organization_id character varying(24) NOT NULL,
  certificate_der bytea NOT NULL,
  private_key_encrypted bytea NOT NULL,
  thumbprint text NOT NULL,
  not_before timestamp(3) with time zone NOT NULL,
  not_after timestamp(3) with time zone NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT certificate_authorities_pkey PRIMARY KEY (organization_id)
);

CREATE TABLE console_sessions (
  organization_id character varying(24) NOT NULL,
  secret_hash bytea NOT NULL,
  api_key_id character varying(24) NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  last_seen_at timestamp(3) with time zone NOT NULL,
  expires_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT console_sessions_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT console_sessions_organization_id_secret_hash_pk PRIMARY KEY (organization_id, secret_hash)
);
CREATE INDEX console_sessions_org_key_idx ON public.console_sessions USING btree (organization_id, api_key_id);

CREATE TABLE device_commands (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  device_id character varying(24) NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  platform text NOT NULL,
  type text NOT NULL,
  target text,
  payload jsonb DEFAULT '{}'::jsonb NOT NULL,
  source_token_id character varying(24),
  source_policy_id character varying(24),
  status text NOT NULL,
  result jsonb,
  session_id text,
  msg_id text,
  cmd_id text,
  not_now_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  sent_at timestamp(3) with time zone,
  completed_at timestamp(3) with time zone,
  CONSTRAINT device_commands_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE INDEX device_commands_org_device_created_idx ON public.device_commands USING btree (organization_id, device_id, created_at, id);
CREATE INDEX device_commands_org_device_status_idx ON public.device_commands USING btree (organization_id, device_id, status, seq);

CREATE TABLE email_outbox (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  recipient text NOT NULL,
  status text NOT NULL,
  attempts integer DEFAULT 0 NOT NULL,
  next_attempt_at timestamp(3) with time zone NOT NULL,
  last_error text,
  message_id text,
  sent_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  lease_token text,
  CONSTRAINT email_outbox_pkey PRIMARY KEY (id)
);
CREATE INDEX email_outbox_due_idx ON public.email_outbox USING btree (next_attempt_at) WHERE (status = 'pending'::text);
CREATE INDEX email_outbox_failed_idx ON public.email_outbox USING btree (organization_id) WHERE (status = 'failed'::text);
CREATE INDEX email_outbox_org_created_idx ON public.email_outbox USING btree (organization_id, created_at);
CREATE INDEX email_outbox_org_token_idx ON public.email_outbox USING btree (organization_id, token_id, created_at);

CREATE TABLE enrollment_tokens (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  enterprise_id character varying(24) NOT NULL,
  device_id character varying(24),
  mdm_user_id character varying(24) NOT NULL,
  display_name text DEFAULT ''::text NOT NULL,
  tags text[] DEFAULT '{}'::text[] NOT NULL,
  state text NOT NULL,
  config jsonb DEFAULT '{}'::jsonb NOT NULL,
  type text NOT NULL,
  sub_type text NOT NULL,
  language text NOT NULL,
  send_email boolean NOT NULL,
  email_text text DEFAULT ''::text NOT NULL,
  segment_id integer,
  link_secret text NOT NULL,
  enroll_code text NOT NULL,
  policy_assignments jsonb DEFAULT '[]'::jsonb NOT NULL,
  policy_ids text[] DEFAULT '{}'::text[] NOT NULL,
  vpp_location_id character varying(24),
  configuration jsonb,
  profiles jsonb DEFAULT '[]'::jsonb NOT NULL,
  applications jsonb DEFAULT '[]'::jsonb NOT NULL,
  expire_at timestamp(3) with time zone NOT NULL,
  done_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT enrollment_tokens_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT enrollment_tokens_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX enrollment_tokens_link_secret_idx ON public.enrollment_tokens USING btree (link_secret);
CREATE INDEX enrollment_tokens_list_created_idx ON public.enrollment_tokens USING btree (organization_id, platform, created_at DESC, id DESC) INCLUDE (state);
CREATE INDEX enrollment_tokens_list_name_idx ON public.enrollment_tokens USING btree (organization_id, platform, display_name, id) INCLUDE (state);
CREATE INDEX enrollment_tokens_list_user_idx ON public.enrollment_tokens USING btree (organization_id, platform, mdm_user_id, created_at DESC, id DESC) INCLUDE (state);
CREATE UNIQUE INDEX enrollment_tokens_open_code_idx ON public.enrollment_tokens USING btree (enroll_code) WHERE (state = 'PENDING'::text);
CREATE INDEX enrollment_tokens_pending_expiry_idx ON public.enrollment_tokens USING btree (expire_at) WHERE (state = 'PENDING'::text);
CREATE INDEX enrollment_tokens_policy_ids_idx ON public.enrollment_tokens USING gin (policy_ids);
CREATE TRIGGER enrollment_tokens_count_delete AFTER DELETE ON public.enrollment_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_after_delete();
CREATE TRIGGER enrollment_tokens_count_insert AFTER INSERT ON public.enrollment_tokens REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_after_insert();
CREATE TRIGGER enrollment_tokens_count_update AFTER UPDATE ON public.enrollment_tokens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_after_update();
CREATE TRIGGER enrollment_tokens_policies_delete AFTER DELETE ON public.enrollment_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION token_policies_after_delete();
CREATE TRIGGER enrollment_tokens_policies_insert AFTER INSERT ON public.enrollment_tokens REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_policies_after_insert();
CREATE TRIGGER enrollment_tokens_policies_update AFTER UPDATE ON public.enrollment_tokens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_policies_after_update();

CREATE TABLE enterprises (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  name text NOT NULL,
  config jsonb DEFAULT '{}'::jsonb NOT NULL,
  server_expiration_date timestamp(3) with time zone,
  mobile_config_signed boolean DEFAULT false NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT enterprises_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT enterprises_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX enterprises_org_platform_idx ON public.enterprises USING btree (organization_id, platform);

CREATE TABLE idempotency_keys (
  organization_id character varying(24) NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response jsonb,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT idempotency_keys_organization_id_scope_key_pk PRIMARY KEY (organization_id, scope, key)
);

CREATE TABLE issued_certificates (
  organization_id character varying(24) NOT NULL,
  serial_number text NOT NULL,
  thumbprint text NOT NULL,
  platform text NOT NULL,
  device_id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  subject_common_name text NOT NULL,
  certificate_der bytea NOT NULL,
  not_before timestamp(3) with time zone NOT NULL,
  not_after timestamp(3) with time zone NOT NULL,
  revoked_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT issued_certificates_organization_id_serial_number_pk PRIMARY KEY (organization_id, serial_number)
);
CREATE INDEX issued_certificates_org_device_idx ON public.issued_certificates USING btree (organization_id, device_id);
CREATE INDEX issued_certificates_org_token_idx ON public.issued_certificates USING btree (organization_id, token_id);
CREATE INDEX issued_certificates_serial_idx ON public.issued_certificates USING btree (serial_number);
CREATE INDEX issued_certificates_thumbprint_idx ON public.issued_certificates USING btree (thumbprint);

CREATE TABLE mdm_users (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  email text NOT NULL,
  name text DEFAULT ''::text NOT NULL,
  language text,
  tags text[] DEFAULT '{}'::text[] NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  deleted_at timestamp(3) with time zone,
  CONSTRAINT mdm_users_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT mdm_users_pkey PRIMARY KEY (id)
);
CREATE INDEX mdm_users_org_created_idx ON public.mdm_users USING btree (organization_id, created_at, id);
CREATE UNIQUE INDEX mdm_users_org_email_idx ON public.mdm_users USING btree (organization_id, email) WHERE (deleted_at IS NULL);
CREATE INDEX mdm_users_search_lower_idx ON public.mdm_users USING gin (lower(email) gin_trgm_ops, lower(name) gin_trgm_ops) WHERE (deleted_at IS NULL);

CREATE TABLE organizations (
  id character varying(24) NOT NULL,
  slug text NOT NULL,
  name text NOT NULL,
  language text DEFAULT 'en'::text NOT NULL,
  plan_name text NOT NULL,
  plan_platforms text[] NOT NULL,
  plan_max_open_tokens integer,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT organizations_pkey PRIMARY KEY (id),
  CONSTRAINT organizations_slug_unique UNIQUE (slug)
);
CREATE TRIGGER organizations_notify_change AFTER DELETE OR UPDATE ON public.organizations FOR EACH ROW EXECUTE FUNCTION organizations_notify_change();

CREATE TABLE policies (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  name text NOT NULL,
  config jsonb DEFAULT '{}'::jsonb NOT NULL,
  details jsonb DEFAULT '{}'::jsonb NOT NULL,
  version integer DEFAULT 0 NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  deleted_at timestamp(3) with time zone,
  CONSTRAINT policies_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT policies_pkey PRIMARY KEY (id)
);
CREATE INDEX policies_org_platform_created_idx ON public.policies USING btree (organization_id, platform, created_at, id);
CREATE TRIGGER policies_notify_change AFTER DELETE OR UPDATE ON public.policies FOR EACH ROW EXECUTE FUNCTION policies_notify_change();

CREATE TABLE rate_limit_counters (
  organization_id character varying(24) NOT NULL,
  bucket text NOT NULL,
  hits integer NOT NULL,
  window_ends_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT rate_limit_counters_organization_id_bucket_pk PRIMARY KEY (organization_id, bucket)
);

CREATE TABLE segments (
  id integer GENERATED ALWAYS AS IDENTITY NOT NULL,
  organization_id character varying(24) NOT NULL,
  name text NOT NULL,
  parent_id integer,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT segments_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT segments_pkey PRIMARY KEY (id)
);
CREATE INDEX segments_org_created_idx ON public.segments USING btree (organization_id, created_at, id);

CREATE TABLE token_counts (
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  shard integer NOT NULL,
  total bigint DEFAULT 0 NOT NULL,
  deleted bigint DEFAULT 0 NOT NULL,
  changes bigint DEFAULT 0 NOT NULL,
  CONSTRAINT token_counts_organization_id_platform_shard_pk PRIMARY KEY (organization_id, platform, shard)
);

CREATE TABLE token_events (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  organization_id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  type text NOT NULL,
  actor_key_id character varying(24),
  at timestamp(3) with time zone NOT NULL,
  changes jsonb DEFAULT '{}'::jsonb NOT NULL,
  CONSTRAINT token_events_pkey PRIMARY KEY (id)
);
CREATE INDEX token_events_org_token_idx ON public.token_events USING btree (organization_id, token_id, id);

CREATE TABLE token_page_marks (
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  shape text NOT NULL,
  version bigint NOT NULL,
  position bigint NOT NULL,
  token_id character varying(24) NOT NULL,
  CONSTRAINT token_page_marks_pk PRIMARY KEY (organization_id, platform, shape, version, "position")
);

CREATE TABLE token_policies (
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  policy_id character varying(24) NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  token_id character varying(24) NOT NULL,
  deleted boolean NOT NULL,
  CONSTRAINT token_policies_pk PRIMARY KEY (organization_id, platform, policy_id, created_at, token_id) INCLUDE (deleted)
);

CREATE TABLE token_policy_counts (
  organization_id character varying(24) NOT NULL,
  platform text NOT NULL,
  policy_id character varying(24) NOT NULL,
  shard integer NOT NULL,
  total bigint DEFAULT 0 NOT NULL,
  deleted bigint DEFAULT 0 NOT NULL,
  CONSTRAINT token_policy_counts_pk PRIMARY KEY (organization_id, platform, policy_id, shard)
);

CREATE TABLE vpp_locations (
  id character varying(24) NOT NULL,
  organization_id character varying(24) NOT NULL,
  name text NOT NULL,
  config jsonb DEFAULT '{}'::jsonb NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  deleted_at timestamp(3) with time zone,
  CONSTRAINT vpp_locations_organization_id_organizations_id_fk FOREIGN KEY (organization_id) REFERENCES organizations(id),
  CONSTRAINT vpp_locations_pkey PRIMARY KEY (id)
);
CREATE INDEX vpp_locations_org_created_idx ON public.vpp_locations USING btree (organization_id, created_at, id);

CREATE TABLE webhook_deliveries (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  endpoint_id character varying(24) NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  token_id character varying(24) NOT NULL,
  event_type text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL,
  attempts integer DEFAULT 0 NOT NULL,
  next_attempt_at timestamp(3) with time zone NOT NULL,
  last_attempt_at timestamp(3) with time zone,
  response_status integer,
  last_error text,
  delivered_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  lease_token text,
  CONSTRAINT webhook_deliveries_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE INDEX webhook_deliveries_chain_idx ON public.webhook_deliveries USING btree (organization_id, endpoint_id, token_id, seq) WHERE (status = 'pending'::text);
CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at, seq) WHERE (status = 'pending'::text);
CREATE INDEX webhook_deliveries_failed_idx ON public.webhook_deliveries USING btree (organization_id) WHERE (status = 'failed'::text);
CREATE INDEX webhook_deliveries_org_endpoint_idx ON public.webhook_deliveries USING btree (organization_id, endpoint_id, seq);

CREATE TABLE webhook_endpoints (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  url text NOT NULL,
  description text DEFAULT ''::text NOT NULL,
  events text[] NOT NULL,
  enabled boolean DEFAULT true NOT NULL,
  secret text NOT NULL,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT webhook_endpoints_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE INDEX webhook_endpoints_org_created_idx ON public.webhook_endpoints USING btree (organization_id, created_at, id);
CREATE TRIGGER webhook_endpoints_notify_change AFTER INSERT OR DELETE OR UPDATE ON public.webhook_endpoints FOR EACH ROW EXECUTE FUNCTION webhook_endpoints_notify_change();

CREATE TABLE windows_devices (
  organization_id character varying(24) NOT NULL,
  id character varying(24) NOT NULL,
  token_id character varying(24) NOT NULL,
  user_email text NOT NULL,
  enroll_code_hash bytea NOT NULL,
  device_identifier text NOT NULL,
  hw_dev_id text,
  device_name text,
  os_version text,
  enrollment_context jsonb DEFAULT '{}'::jsonb NOT NULL,
  certificate_serial text NOT NULL,
  certificate_thumbprint text NOT NULL,
  dev_info jsonb DEFAULT '{}'::jsonb NOT NULL,
  state text NOT NULL,
  enrolled_at timestamp(3) with time zone NOT NULL,
  last_seen_at timestamp(3) with time zone,
  unenrolled_at timestamp(3) with time zone,
  created_at timestamp(3) with time zone NOT NULL,
  updated_at timestamp(3) with time zone NOT NULL,
  CONSTRAINT windows_devices_organization_id_id_pk PRIMARY KEY (organization_id, id)
);
CREATE INDEX windows_devices_code_idx ON public.windows_devices USING btree (enroll_code_hash);
CREATE INDEX windows_devices_org_created_idx ON public.windows_devices USING btree (organization_id, created_at, id);
CREATE UNIQUE INDEX windows_devices_org_identifier_enrolled_idx ON public.windows_devices USING btree (organization_id, device_identifier) WHERE (state = 'enrolled'::text);
CREATE INDEX windows_devices_org_identifier_idx ON public.windows_devices USING btree (organization_id, device_identifier);
CREATE INDEX windows_devices_org_token_idx ON public.windows_devices USING btree (organization_id, token_id);

CREATE OR REPLACE FUNCTION public.api_keys_notify_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  PERFORM pg_notify('openroll_api_keys', OLD.id);
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION public.organizations_notify_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  PERFORM pg_notify('openroll_api_keys', 'org:' || OLD.id);
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION public.policies_notify_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  PERFORM pg_notify('openroll_policies', OLD.organization_id);
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION public.token_counts_after_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted, changes)
  SELECT organization_id, platform, floor(random() * 8)::int, -count(*), -count(*) FILTER (WHERE state = 'DELETED'), count(*)
  FROM old_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted, changes = c.changes + excluded.changes;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION public.token_counts_after_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  INSERT INTO token_counts AS c (organization_id, platform, shard, total, deleted, changes)
  SELECT organization_id, platform, floor(random() * 8)::int, count(*), count(*) FILTER (WHERE state = 'DELETED'), count(*)
  FROM new_rows GROUP BY organization_id, platform
  ON CONFLICT (organization_id, platform, shard)
  DO UPDATE SET total = c.total + excluded.total, deleted = c.deleted + excluded.deleted, changes = c.changes + excluded.changes;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION public.token_counts_after_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$;

CREATE OR REPLACE FUNCTION public.token_policies_after_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$;

CREATE OR REPLACE FUNCTION public.token_policies_after_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$;

CREATE OR REPLACE FUNCTION public.token_policies_after_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$;

CREATE OR REPLACE FUNCTION public.webhook_endpoints_notify_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  PERFORM pg_notify('openroll_webhook_endpoints', COALESCE(NEW.organization_id, OLD.organization_id));
  RETURN NULL;
END $function$;
