import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database, Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import {
  COMMAND_STATUSES,
  emptyCounts,
  type CommandCounts,
  type CommandPlatform,
  type CommandResult,
  type DeviceCommandRecord,
  type JsonValue,
  type NewDeviceCommand,
  type SentUnder,
} from './device-command.ts';
import { queuePushUnlessPending } from '../../push/push-outbox.repo.ts';
import { createPushTargetsRepo } from './push-targets.repo.ts';
import { createDeviceCommandsRepo, type CommandSortField } from './device-commands.repo.ts';
import { COMMAND_SORT_FIELDS, type DeviceCommandView } from './device-commands.schemas.ts';
import { toDeviceCommandView } from './device-commands.views.ts';

/** The OMA-DM commands a server sends (MS-MDM 2.2.1); each is also the element's name. */
const WINDOWS_VERBS = new Set(['Replace', 'Add', 'Get', 'Delete', 'Exec']);
/** Apple RequestTypes are plain words (DeviceInformation, InstallProfile, ...). */
const APPLE_REQUEST_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** A Windows device's Status for one command it was sent (OMA-DM: MsgRef, CmdRef, Data). */
export interface WindowsStatusReport {
  msgRef: string;
  cmdRef: string;
  code: number;
}

/** An Apple device's report at ServerURL about the command its CommandUUID names. */
export interface AppleReport {
  status: 'Idle' | 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';
  commandUuid: string | null;
  errorChain: JsonValue[] | null;
}

/** The meaning of the OMA-DM status codes Windows answers with (OMA-TS-DM_RepPro 1.2, section 10). */
const OMA_DM_STATUS: Record<number, string> = {
  200: 'OK',
  202: 'Accepted for processing',
  212: 'Authentication accepted',
  214: 'Operation cancelled',
  215: 'Not executed',
  216: 'Atomic roll back OK',
  400: 'Bad request',
  401: 'Invalid credentials',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Command not allowed',
  406: 'Optional feature not supported',
  415: 'Unsupported type or format',
  418: 'Already exists',
  425: 'Permission denied',
  500: 'Command failed',
  507: 'Atomic failed',
  516: 'Atomic roll back failed',
};

function appleErrorResult(report: AppleReport): CommandResult {
  const first = report.errorChain?.[0];
  const entry = first && typeof first === 'object' && !Array.isArray(first) ? first : {};
  const code = typeof entry.ErrorCode === 'number' ? entry.ErrorCode : null;
  const description = entry.LocalizedDescription ?? entry.USEnglishDescription;
  return {
    code,
    message: typeof description === 'string' ? description : report.status,
    ...(report.errorChain ? { errorChain: report.errorChain } : {}),
  };
}

/**
 * Every enrolled device's command queue, and its only writer: protocols take commands out
 * (next), hand back what devices answered (report), and the device lifecycle clears it.
 * Safe with several server processes on one PostgreSQL: commands are taken under FOR UPDATE
 * SKIP LOCKED, and completions are conditional on the command still being pending.
 */
export function createDeviceCommandsService(deps: { database: Database; clock: Clock }) {
  const { database, clock } = deps;
  const repo = (db: Executor = database.db) => createDeviceCommandsRepo(db);

  return {
    /** Queues commands for a device, in the caller's transaction (e.g. a token's redemption). */
    async enqueue(tx: Executor, organizationId: string, device: { id: string; platform: CommandPlatform }, commands: NewDeviceCommand[]): Promise<DeviceCommandRecord[]> {
      for (const c of commands) {
        // The type becomes an element name or a RequestType: nothing else may get that far.
        if (device.platform === 'windows' ? !WINDOWS_VERBS.has(c.type) : !APPLE_REQUEST_TYPE.test(c.type)) throw new Error(`not a ${device.platform} command type: ${c.type}`);
      }
      const now = clock.now();
      const queued = await repo(tx).insertMany(
        organizationId,
        commands.map((c) => ({
          id: newId(),
          deviceId: device.id,
          platform: device.platform,
          type: c.type,
          target: c.target,
          payload: (c.payload ?? {}) as Record<string, unknown>,
          sourceTokenId: c.source?.tokenId ?? null,
          sourcePolicyId: c.source?.policyId ?? null,
          status: 'queued',
          createdAt: now,
          updatedAt: now,
        })),
      );
      // An Apple device fetches commands only when woken: the push goes with them, in the same
      // transaction, unless one is pending (the pending one's poll fetches these too).
      if (device.platform === 'apple' && queued.length > 0 && (await createPushTargetsRepo(tx).find(organizationId, device.id))) {
        await queuePushUnlessPending(tx, organizationId, device.id, now);
      }
      return queued;
    },

    /**
     * Takes the device's next queued commands, in the order they were queued, and marks them
     * sent: Windows under the message they go out in (`sentUnder`), with CmdIDs from
     * `firstCmdId` on; Apple one at a time, skipping those it said NotNow to when `skipNotNow`.
     */
    async next(organizationId: string, deviceId: string, options: { limit: number; sentUnder?: SentUnder; skipNotNow?: boolean }): Promise<DeviceCommandRecord[]> {
      const now = clock.now();
      return database.db.transaction(async (tx) => {
        const ids = await repo(tx).lockQueued(organizationId, deviceId, options.limit, { skipNotNow: options.skipNotNow ?? false });
        const under = options.sentUnder;
        const sent = ids.map((id, i) => ({ id, cmdId: under ? String(under.firstCmdId + i) : null }));
        return repo(tx).markSent(organizationId, sent, under ? { sessionId: under.sessionId, msgId: under.msgId } : null, now);
      });
    },

    /**
     * A Windows message's Statuses: each one naming a command sent in this session (MsgRef =
     * the server message's MsgID, CmdRef = the command's CmdID) completes it, 2xx acknowledged,
     * anything else error with the code. Statuses of anything else (the header, commands the
     * server did not queue) are not the queue's.
     */
    async reportWindows(organizationId: string, deviceId: string, sessionId: string, statuses: WindowsStatusReport[]): Promise<DeviceCommandRecord[]> {
      if (statuses.length === 0) return [];
      const sent = await repo().findSentInSession(organizationId, deviceId, sessionId);
      if (sent.length === 0) return [];
      const byRef = new Map(sent.map((c) => [`${c.msgId}/${c.cmdId}`, c]));
      const now = clock.now();
      const completed: DeviceCommandRecord[] = [];
      for (const status of statuses) {
        const command = byRef.get(`${status.msgRef}/${status.cmdRef}`);
        if (!command) continue;
        const ok = status.code >= 200 && status.code < 300;
        const result: CommandResult = { code: status.code, message: OMA_DM_STATUS[status.code] ?? null };
        const row = await repo().complete(organizationId, command.id, ok ? 'acknowledged' : 'error', result, now);
        if (row) completed.push(row);
      }
      return completed;
    },

    /**
     * An Apple report: Acknowledged, Error (with its ErrorChain) or CommandFormatError complete
     * the command its CommandUUID names, NotNow queues it again. Idle: a command still `sent`
     * got no answer and never will (the answer was lost), so it is queued again, and those the
     * device said NotNow to may be offered again (NanoMDM's rule). A CommandUUID that is not one
     * of this device's commands is refused (404) and changes nothing.
     */
    async reportApple(organizationId: string, deviceId: string, report: AppleReport): Promise<void> {
      const now = clock.now();
      if (report.status === 'Idle') {
        await database.db.transaction(async (tx) => {
          await repo(tx).requeueSent(organizationId, deviceId, null, now);
          await repo(tx).forgetNotNow(organizationId, deviceId);
        });
        return;
      }
      const command = report.commandUuid ? await repo().get(organizationId, deviceId, report.commandUuid.toLowerCase()) : undefined;
      if (!command) {
        throw new AppError('NOT_FOUND', { data: { errors: [{ path: 'body.CommandUUID', message: 'is not a command of this device' }] } });
      }
      if (report.status === 'NotNow') return repo().notNow(organizationId, command.id, now);
      if (report.status === 'Acknowledged') {
        await repo().complete(organizationId, command.id, 'acknowledged', null, now);
        return;
      }
      await repo().complete(organizationId, command.id, 'error', appleErrorResult(report), now);
    },

    /** Windows: a new SessionID means the session that sent the unanswered commands is over. */
    async requeueUnanswered(organizationId: string, deviceId: string, newSessionId: string): Promise<number> {
      return repo().requeueSent(organizationId, deviceId, newSessionId, clock.now());
    },

    /** A device retired or unenrolled: nothing it has not answered will be sent (the caller's transaction). */
    async clear(tx: Executor, organizationId: string, deviceId: string): Promise<number> {
      return repo(tx).deletePending(organizationId, deviceId);
    },

    /** The counts per status of each device (every device asked for gets one, zeros included). */
    async counts(organizationId: string, deviceIds: string[]): Promise<Map<string, CommandCounts>> {
      const counts = new Map(deviceIds.map((id) => [id, emptyCounts()]));
      for (const row of await repo().countByStatus(organizationId, deviceIds)) {
        const entry = counts.get(row.deviceId);
        if (entry && (COMMAND_STATUSES as readonly string[]).includes(row.status)) entry[row.status as keyof CommandCounts] = row.count;
      }
      return counts;
    },

    /** The queue route: one device's commands, oldest first unless sorted otherwise. */
    async list(auth: AuthContext, platform: CommandPlatform, deviceId: string, query: PageRequest & { sort?: string | undefined }): Promise<Page<DeviceCommandView>> {
      const organizationId = auth.organization.id;
      const id = deviceId.toLowerCase();
      if (!(await repo().deviceExists(organizationId, platform, id))) throw notFound();
      const sort = parseSort<CommandSortField>(query.sort, COMMAND_SORT_FIELDS, { field: 'createdAt', direction: 'asc' });
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(organizationId, platform, id, sort, page);
      return toPage(items.map(toDeviceCommandView), total, page);
    },
  };
}

export type DeviceCommandsService = ReturnType<typeof createDeviceCommandsService>;
