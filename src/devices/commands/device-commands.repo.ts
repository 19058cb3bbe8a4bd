import { and, asc, desc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { appleDevices, deviceCommands, windowsDevices } from '../../db/schema.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { CommandPlatform, CommandResult, CommandStatus, DeviceCommandRecord } from './device-command.ts';

/** A profile a device of `tokenId` must have (the winner of its PayloadIdentifier). */
export interface WantedProfile {
  token_id: string;
  policy_id: string | null;
  target: string;
  mobileconfig: string;
}

export type NewCommandRow = Omit<typeof deviceCommands.$inferInsert, 'organizationId' | 'seq'>;
/** A Windows setting as a policy stores it (src/modules/policies/win-settings.ts). */
export interface PolicySettingRow {
  locUri: string;
  format: string;
  data: string;
  verb: string;
}
export type CommandSortField = 'createdAt' | 'updatedAt' | 'status';

const SORT_COLUMNS = { createdAt: deviceCommands.createdAt, updatedAt: deviceCommands.updatedAt, status: deviceCommands.status };
const PENDING: CommandStatus[] = ['queued', 'sent'];

/** SQL of the command queue; the organization leads every statement (and every index). */
export function createDeviceCommandsRepo(db: Executor) {
  const ofDevice = (organizationId: string, deviceId: string) => and(eq(deviceCommands.organizationId, organizationId), eq(deviceCommands.deviceId, deviceId));

  return {
    async insertMany(organizationId: string, rows: NewCommandRow[]): Promise<DeviceCommandRecord[]> {
      if (rows.length === 0) return [];
      // One statement: seq follows the order of the rows, so the commands go out as queued.
      const saved = await db
        .insert(deviceCommands)
        .values(rows.map((r) => ({ ...r, organizationId })))
        .returning();
      return saved.sort((a, b) => a.seq - b.seq);
    },

    /**
     * The oldest queued commands of a device, locked: another server process handing out the
     * same device's queue skips them (FOR UPDATE SKIP LOCKED) instead of sending them twice.
     */
    async lockQueued(organizationId: string, deviceId: string, limit: number, options: { skipNotNow: boolean }): Promise<string[]> {
      const rows = await db
        .select({ id: deviceCommands.id })
        .from(deviceCommands)
        .where(and(ofDevice(organizationId, deviceId), eq(deviceCommands.status, 'queued'), options.skipNotNow ? isNull(deviceCommands.notNowAt) : undefined))
        .orderBy(asc(deviceCommands.seq))
        .limit(limit)
        .for('update', { skipLocked: true });
      return rows.map((r) => r.id);
    },

    /**
     * One statement for every enrolled device a policy's changed settings apply to: for each
     * device whose token assigns the policy, each setting the policy wins there (no live policy
     * of the token with precedence over it sets the same LocURI) is queued, in the settings'
     * order. Ids follow the ObjectId layout (seconds, then random), as newId() makes them.
     */
    async queueForPolicyDevices(organizationId: string, policyId: string, settings: PolicySettingRow[], enrolledState: string, at: Date): Promise<number> {
      if (settings.length === 0) return 0;
      const rows = JSON.stringify(settings.map((s, ord) => ({ ...s, ord })));
      const result = await db.execute(sql`
        insert into device_commands (organization_id, id, device_id, platform, type, target, payload, source_token_id, source_policy_id, status, created_at, updated_at)
        select d.organization_id,
               lpad(to_hex(extract(epoch from ${at.toISOString()}::timestamptz)::bigint), 8, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16),
               d.id, 'windows', s.verb, s."locUri", jsonb_build_object('format', s.format, 'data', s.data), d.token_id, ${policyId}, 'queued',
               ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz
        from enrollment_tokens t
        join windows_devices d on d.organization_id = t.organization_id and d.token_id = t.id and d.state = ${enrolledState}
        cross join lateral (
          select min((a->>'priority')::int) as priority from jsonb_array_elements(t.policy_assignments) a where a->>'policyId' = ${policyId}
        ) mine
        cross join jsonb_to_recordset(${rows}::jsonb) as s("locUri" text, format text, data text, verb text, ord int)
        where t.organization_id = ${organizationId} and t.platform = 'windows' and t.policy_ids @> array[${policyId}]::text[]
          and mine.priority is not null
          and not exists (
            select 1 from jsonb_array_elements(t.policy_assignments) o
            join policies p on p.organization_id = t.organization_id and p.id = o->>'policyId' and p.deleted_at is null
            where o->>'policyId' <> ${policyId}
              and ((o->>'priority')::int < mine.priority or ((o->>'priority')::int = mine.priority and (o->>'policyId') collate "C" < ${policyId} collate "C"))
              and p.details->'settings' @> jsonb_build_array(jsonb_build_object('locUri', s."locUri"))
          )
        order by d.id, s.ord
        returning id`);
      return (result as unknown as { rows: unknown[] }).rows.length;
    },

    /** Commands by id, in queue order (what next() measures before sending). */
    async byIds(organizationId: string, ids: string[]): Promise<DeviceCommandRecord[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .select()
        .from(deviceCommands)
        .where(and(eq(deviceCommands.organizationId, organizationId), inArray(deviceCommands.id, ids)));
      return rows.sort((a, b) => a.seq - b.seq);
    },

    /** The locked commands -> sent, each with its CmdID when it goes out in an OMA-DM message. */
    async markSent(organizationId: string, sent: { id: string; cmdId: string | null }[], under: { sessionId: string; msgId: string } | null, at: Date): Promise<DeviceCommandRecord[]> {
      if (sent.length === 0) return [];
      const cmdId = sql.join([sql`case ${deviceCommands.id}`, ...sent.map((s) => sql`when ${s.id} then ${s.cmdId}`), sql`end`], sql` `);
      const rows = await db
        .update(deviceCommands)
        .set({ status: 'sent', sentAt: at, updatedAt: at, notNowAt: null, sessionId: under?.sessionId ?? null, msgId: under?.msgId ?? null, cmdId: sql`${cmdId}` })
        .where(and(eq(deviceCommands.organizationId, organizationId), inArray(deviceCommands.id, sent.map((s) => s.id))))
        .returning();
      return rows.sort((a, b) => a.seq - b.seq);
    },

    /** The commands sent in a session as (MsgID, CmdID) pairs, still waiting for their Status. */
    async findSentInSession(organizationId: string, deviceId: string, sessionId: string): Promise<DeviceCommandRecord[]> {
      return db
        .select()
        .from(deviceCommands)
        .where(and(ofDevice(organizationId, deviceId), eq(deviceCommands.status, 'sent'), eq(deviceCommands.sessionId, sessionId)));
    },

    async get(organizationId: string, deviceId: string, id: string): Promise<DeviceCommandRecord | undefined> {
      const [row] = await db
        .select()
        .from(deviceCommands)
        .where(and(ofDevice(organizationId, deviceId), eq(deviceCommands.id, id)))
        .limit(1);
      return row;
    },

    /** Completes a command still pending; a completed one is left as it is (a repeated report). */
    async complete(organizationId: string, id: string, status: 'acknowledged' | 'error', result: CommandResult | null, at: Date): Promise<DeviceCommandRecord | undefined> {
      const [row] = await db
        .update(deviceCommands)
        .set({ status, result: result as Record<string, unknown> | null, completedAt: at, updatedAt: at })
        .where(and(eq(deviceCommands.organizationId, organizationId), eq(deviceCommands.id, id), inArray(deviceCommands.status, PENDING)))
        .returning();
      return row;
    },

    /** Apple NotNow: queued again, marked so that it waits for the device's next Idle. */
    async notNow(organizationId: string, id: string, at: Date): Promise<void> {
      await db
        .update(deviceCommands)
        .set({ status: 'queued', notNowAt: at, updatedAt: at, sessionId: null, msgId: null, cmdId: null })
        .where(and(eq(deviceCommands.organizationId, organizationId), eq(deviceCommands.id, id), inArray(deviceCommands.status, PENDING)));
    },

    /**
     * Sent commands no answer can come for any more -> queued: Windows, those sent in another
     * session than `sessionId`; Apple (sessionId null), every one (the device said Idle).
     */
    async requeueSent(organizationId: string, deviceId: string, sessionId: string | null, at: Date): Promise<number> {
      const rows = await db
        .update(deviceCommands)
        .set({ status: 'queued', updatedAt: at, sessionId: null, msgId: null, cmdId: null })
        .where(
          and(
            ofDevice(organizationId, deviceId),
            eq(deviceCommands.status, 'sent'),
            sessionId === null ? undefined : or(isNull(deviceCommands.sessionId), ne(deviceCommands.sessionId, sessionId)),
          ),
        )
        .returning({ id: deviceCommands.id });
      return rows.length;
    },

    /** Apple Idle: the commands it answered NotNow to may be offered again. */
    async forgetNotNow(organizationId: string, deviceId: string): Promise<void> {
      await db
        .update(deviceCommands)
        .set({ notNowAt: null })
        .where(and(ofDevice(organizationId, deviceId), eq(deviceCommands.status, 'queued'), sql`${deviceCommands.notNowAt} is not null`));
    },

    /** Drops what the device has not answered yet; what it answered stays as its history. */
    async deletePending(organizationId: string, deviceId: string): Promise<number> {
      const rows = await db
        .delete(deviceCommands)
        .where(and(ofDevice(organizationId, deviceId), inArray(deviceCommands.status, PENDING)))
        .returning({ id: deviceCommands.id });
      return rows.length;
    },

    async countByStatus(organizationId: string, deviceIds: string[]): Promise<{ deviceId: string; status: string; count: number }[]> {
      if (deviceIds.length === 0) return [];
      return db
        .select({ deviceId: deviceCommands.deviceId, status: deviceCommands.status, count: sql<number>`count(*)::int` })
        .from(deviceCommands)
        .where(and(eq(deviceCommands.organizationId, organizationId), inArray(deviceCommands.deviceId, deviceIds)))
        .groupBy(deviceCommands.deviceId, deviceCommands.status);
    },

    /**
     * What a change of policies means to the enrolled Apple devices of `tokenIds`, queued in one
     * statement: against each device's last InstallProfile or RemoveProfile per PayloadIdentifier,
     * an InstallProfile for every wanted profile the device does not have as wanted (added or
     * changed), and a RemoveProfile for every profile it was given that is no longer wanted. Ids
     * keep the ObjectId layout (seconds first). `enrolledState` is the table's literal for an
     * enrolled device (device-state.ts). Returns the devices that got commands, and how many.
     */
    async queueProfileDifference(organizationId: string, args: { tokenIds: string[]; wanted: WantedProfile[]; enrolledState: string; now: Date }): Promise<{ deviceId: string; count: number }[]> {
      if (args.tokenIds.length === 0) return [];
      const wanted = JSON.stringify(args.wanted);
      const result = await db.execute(sql`
        with wanted as (
          select * from jsonb_to_recordset(${wanted}::jsonb) as w(token_id text, policy_id text, target text, mobileconfig text)
        ),
        devices as (
          select id as device_id, token_id from ${appleDevices}
          where ${and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.state, args.enrolledState), inArray(appleDevices.tokenId, args.tokenIds))}
        ),
        latest as (
          select distinct on (c.device_id, c.target) c.device_id, c.target, c.type, c.source_policy_id, c.payload->>'mobileconfig' as mobileconfig
          from ${deviceCommands} c join devices dv on dv.device_id = c.device_id
          where c.organization_id = ${organizationId} and c.type in ('InstallProfile', 'RemoveProfile') and c.target is not null
          order by c.device_id, c.target, c.seq desc
        ),
        difference as (
          select dv.device_id, dv.token_id, w.policy_id, w.target, 'InstallProfile' as type, jsonb_build_object('mobileconfig', w.mobileconfig) as payload, 0 as part
          from devices dv join wanted w on w.token_id = dv.token_id
          left join latest l on l.device_id = dv.device_id and l.target = w.target
          where l.target is null or l.type = 'RemoveProfile' or l.mobileconfig is distinct from w.mobileconfig
          union all
          select l.device_id, dv.token_id, l.source_policy_id, l.target, 'RemoveProfile', jsonb_build_object('Identifier', l.target), 1
          from latest l join devices dv on dv.device_id = l.device_id
          where l.type = 'InstallProfile' and not exists (select 1 from wanted w where w.token_id = dv.token_id and w.target = l.target)
        ),
        queued as (
          insert into ${deviceCommands} (organization_id, id, device_id, platform, type, target, payload, source_token_id, source_policy_id, status, created_at, updated_at)
          select ${organizationId}, lpad(to_hex(floor(extract(epoch from ${args.now.toISOString()}::timestamptz))::bigint), 8, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16),
                 device_id, 'apple', type, target, payload, token_id, policy_id, 'queued', ${args.now.toISOString()}::timestamptz, ${args.now.toISOString()}::timestamptz
          from difference
          order by device_id, part, target
          returning device_id
        )
        select device_id as "deviceId", count(*)::int as count from queued group by device_id order by device_id`);
      // Both drivers (node-postgres and PGlite) answer raw queries with `rows`.
      return (result as unknown as { rows: { deviceId: string; count: number }[] }).rows;
    },

    /**
     * Per device and policy: whether the latest command of each target (LocURI, profile) the
     * policy sent failed, or is still pending. Commands of no token (queued by hand) and
     * queries (no target) are no policy's.
     */
    async policyOutcomes(organizationId: string, deviceIds: string[]): Promise<{ deviceId: string; policyId: string | null; failed: boolean; pending: boolean }[]> {
      if (deviceIds.length === 0) return [];
      const result = await db.execute(sql`
        select latest.device_id as "deviceId", latest.source_policy_id as "policyId",
               bool_or(latest.status = 'error') as failed, bool_or(latest.status in ('queued', 'sent')) as pending
        from (
          select distinct on (device_id, target) device_id, source_policy_id, status
          from ${deviceCommands}
          where ${eq(deviceCommands.organizationId, organizationId)} and ${inArray(deviceCommands.deviceId, deviceIds)} and target is not null and source_token_id is not null
          order by device_id, target, seq desc
        ) latest
        group by latest.device_id, latest.source_policy_id
        order by latest.device_id, latest.source_policy_id nulls first`);
      // Both drivers (node-postgres and PGlite) answer raw queries with `rows`.
      return (result as unknown as { rows: { deviceId: string; policyId: string | null; failed: boolean; pending: boolean }[] }).rows;
    },

    async list(organizationId: string, platform: CommandPlatform, deviceId: string, sort: SortSpec<CommandSortField>, page: PageRequest) {
      const dir = sort.direction === 'asc' ? asc : desc;
      const where = and(ofDevice(organizationId, deviceId), eq(deviceCommands.platform, platform));
      // Ties (one statement queues several commands at one instant) in the order they go out.
      const [items, total] = await Promise.all([
        db
          .select()
          .from(deviceCommands)
          .where(where)
          .orderBy(dir(SORT_COLUMNS[sort.field]), dir(deviceCommands.seq))
          .limit(page.limit)
          .offset((page.page - 1) * page.limit),
        db.$count(deviceCommands, where),
      ]);
      return { items, total };
    },

    /** Whether the organization has this device on this platform (the route's 404). */
    /** The token a device enrolled with (every device row has one). */
    async deviceTokenId(organizationId: string, platform: CommandPlatform, deviceId: string): Promise<string | undefined> {
      const table = platform === 'windows' ? windowsDevices : appleDevices;
      const [row] = await db.select({ tokenId: table.tokenId }).from(table).where(and(eq(table.organizationId, organizationId), eq(table.id, deviceId))).limit(1);
      return row?.tokenId;
    },

    async deviceExists(organizationId: string, platform: CommandPlatform, deviceId: string): Promise<boolean> {
      const table = platform === 'windows' ? windowsDevices : appleDevices;
      const where: SQL | undefined = and(eq(table.organizationId, organizationId), eq(table.id, deviceId));
      const [row] = await db.select({ id: table.id }).from(table).where(where).limit(1);
      return row !== undefined;
    },
  };
}
