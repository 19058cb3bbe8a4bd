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
  type PolicyState,
  type SentUnder,
} from './device-command.ts';
import { queuePushUnlessPending } from '../../push/push-outbox.repo.ts';
import { createPushTargetsRepo } from './push-targets.repo.ts';
import { createDeviceCommandsRepo, type CommandSortField, type PolicySettingRow, type WantedProfile } from './device-commands.repo.ts';
import { COMMAND_SORT_FIELDS, type DeviceCommandView } from './device-commands.schemas.ts';
import { toDeviceCommandView } from './device-commands.views.ts';
import { enqueueCommandEvents } from './command-webhooks.ts';
import type { EndpointLookup } from '../../webhooks/endpoint-cache.ts';

/** The OMA-DM commands a server sends (MS-MDM 2.2.1); each is also the element's name. */
const WINDOWS_VERBS = new Set(['Replace', 'Add', 'Get', 'Delete', 'Exec']);
/** Apple RequestTypes are plain words (DeviceInformation, InstallProfile, ...). */
const APPLE_REQUEST_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** A Windows device's Status for one command it was sent (OMA-DM: MsgRef, CmdRef, Data). */
export interface WindowsStatusReport {
  msgRef: string;
  cmdRef: string;
  code: number;
  /** What the device said besides the code (its Status's Item/Data), when it said anything. */
  detail?: string;
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
 * How much room a message has for commands (Windows: the device's MaxMsgSize less the rest of
 * the answer), and what one command costs in it, as the protocol encodes it.
 */
export interface SizeBudget {
  bytes: number;
  sizeOf: (command: DeviceCommandRecord) => number;
}

/**
 * Every enrolled device's command queue, and its only writer: protocols take commands out
 * (next), hand back what devices answered (report), and the device lifecycle clears it.
 * Safe with several server processes on one PostgreSQL: commands are taken under FOR UPDATE
 * SKIP LOCKED, and completions are conditional on the command still being pending.
 */
export function createDeviceCommandsService(deps: {
  database: Database;
  clock: Clock;
  /**
   * Apple devices that got commands outside enqueue() (a policy's profile difference), in the
   * same transaction: where the APNs push outbox is told (issue 25 item 4; not wired yet).
   */
  onAppleQueued?: (tx: Executor, organizationId: string, deviceIds: string[]) => Promise<void>;
  /** Which webhook endpoints want an organization's events (the endpoint cache); by default read each time. */
  webhookEndpoints?: EndpointLookup;
}) {
  const { database, clock } = deps;
  const repo = (db: Executor = database.db) => createDeviceCommandsRepo(db);

  /** The webhook events of commands just completed, in the transaction that completed them. */
  function recordEnds(tx: Executor, organizationId: string, completed: DeviceCommandRecord[]): Promise<void> {
    const tokenOf = (deviceId: string) => repo(tx).deviceTokenId(organizationId, completed[0]!.platform as CommandPlatform, deviceId);
    return enqueueCommandEvents(tx, organizationId, completed, tokenOf, deps.webhookEndpoints);
  }

  /**
   * The locked commands that fit the budget, in order. A first command larger than an empty
   * message can hold would block the queue for good: it is completed as an error instead.
   */
  async function withinBudget(tx: Executor, organizationId: string, ids: string[], budget: SizeBudget, now: Date): Promise<string[]> {
    const rows = await repo(tx).byIds(organizationId, ids);
    const taken: string[] = [];
    let left = budget.bytes;
    for (const row of rows) {
      const size = budget.sizeOf(row);
      if (size > left) {
        if (taken.length === 0) {
          const failed = await repo(tx).complete(organizationId, row.id, 'error', { code: null, message: 'larger than the device’s MaxMsgSize' }, now);
          if (failed) await recordEnds(tx, organizationId, [failed]);
          continue;
        }
        break;
      }
      taken.push(row.id);
      left -= size;
    }
    return taken;
  }

  /** An Apple device fetches commands only when woken: a push, unless one is pending (its poll fetches these too). */
  async function pushIfPushable(tx: Executor, organizationId: string, deviceId: string, now: Date): Promise<void> {
    if (await createPushTargetsRepo(tx).find(organizationId, deviceId)) await queuePushUnlessPending(tx, organizationId, deviceId, now);
  }

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
      if (device.platform === 'apple' && queued.length > 0) await pushIfPushable(tx, organizationId, device.id, now);
      return queued;
    },

    /**
     * Apple profiles after a change of policies, in the change's transaction and one statement:
     * for each enrolled device of `tokenIds`, InstallProfile for the wanted profiles it lacks or
     * has in another version, RemoveProfile for those it has and no longer should.
     */
    async queueProfileDifference(tx: Executor, organizationId: string, args: { tokenIds: string[]; wanted: WantedProfile[]; enrolledState: string }): Promise<{ deviceId: string; count: number }[]> {
      const queued = await repo(tx).queueProfileDifference(organizationId, { ...args, now: clock.now() });
      const now = clock.now();
      for (const q of queued) await pushIfPushable(tx, organizationId, q.deviceId, now);
      if (queued.length > 0) await deps.onAppleQueued?.(tx, organizationId, queued.map((q) => q.deviceId));
      return queued;
    },

    /**
     * A policy's changed or added settings, queued for every enrolled Windows device they
     * apply to and win on, in one statement in the caller's transaction (the policy update's),
     * so it happens once however many processes run. `enrolledState` is the Windows table's
     * literal of `enrolled` (device-state.ts, handed in: this folder sits below devices/).
     */
    async queuePolicyChange(tx: Executor, organizationId: string, policyId: string, settings: PolicySettingRow[], enrolledState: string, now: Date): Promise<number> {
      for (const s of settings) if (!WINDOWS_VERBS.has(s.verb)) throw new Error(`not a windows command type: ${s.verb}`);
      return repo(tx).queueForPolicyDevices(organizationId, policyId, settings, enrolledState, now);
    },

    /**
     * Takes the device's next queued commands, in the order they were queued, and marks them
     * sent: Windows under the message they go out in (`sentUnder`), with CmdIDs from
     * `firstCmdId` on; Apple one at a time, skipping those it said NotNow to when `skipNotNow`.
     */
    async next(organizationId: string, deviceId: string, options: { limit: number; sentUnder?: SentUnder; skipNotNow?: boolean; budget?: SizeBudget }): Promise<DeviceCommandRecord[]> {
      const now = clock.now();
      return database.db.transaction(async (tx) => {
        let ids = await repo(tx).lockQueued(organizationId, deviceId, options.limit, { skipNotNow: options.skipNotNow ?? false });
        if (options.budget) ids = await withinBudget(tx, organizationId, ids, options.budget, now);
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
      // One transaction for the message's completions and their webhook events.
      return database.db.transaction(async (tx) => {
        const completed: DeviceCommandRecord[] = [];
        for (const status of statuses) {
          const command = byRef.get(`${status.msgRef}/${status.cmdRef}`);
          if (!command) continue;
          const ok = status.code >= 200 && status.code < 300;
          const meaning = OMA_DM_STATUS[status.code] ?? null;
          const message = status.detail ? (meaning ? `${meaning}: ${status.detail}` : status.detail) : meaning;
          const result: CommandResult = { code: status.code, message };
          const row = await repo(tx).complete(organizationId, command.id, ok ? 'acknowledged' : 'error', result, now);
          if (row) completed.push(row);
        }
        if (completed.length > 0) await recordEnds(tx, organizationId, completed);
        return completed;
      });
    },

    /**
     * An Apple report: Acknowledged, Error (with its ErrorChain) or CommandFormatError complete
     * the command its CommandUUID names, NotNow queues it again. Idle: a command still `sent`
     * got no answer and never will (the answer was lost), so it is queued again, and those the
     * device said NotNow to may be offered again (NanoMDM's rule). A CommandUUID that is not one
     * of this device's commands is refused (404) and changes nothing. Returns the command the
     * report completed (none for Idle, NotNow or a repeated report); in `tx` when given.
     */
    async reportApple(organizationId: string, deviceId: string, report: AppleReport, tx?: Executor): Promise<DeviceCommandRecord | undefined> {
      const now = clock.now();
      const inTransaction = <T>(work: (db: Executor) => Promise<T>): Promise<T> => (tx ? work(tx) : database.db.transaction(work));
      if (report.status === 'Idle') {
        await inTransaction(async (db) => {
          await repo(db).requeueSent(organizationId, deviceId, null, now);
          await repo(db).forgetNotNow(organizationId, deviceId);
        });
        return undefined;
      }
      const command = report.commandUuid ? await repo(tx).get(organizationId, deviceId, report.commandUuid.toLowerCase()) : undefined;
      if (!command) {
        throw new AppError('NOT_FOUND', { data: { errors: [{ path: 'body.CommandUUID', message: 'is not a command of this device' }] } });
      }
      if (report.status === 'NotNow') {
        await repo(tx).notNow(organizationId, command.id, now);
        return undefined;
      }
      return inTransaction(async (db) => {
        const done =
          report.status === 'Acknowledged'
            ? await repo(db).complete(organizationId, command.id, 'acknowledged', null, now)
            : await repo(db).complete(organizationId, command.id, 'error', appleErrorResult(report), now);
        if (done) await recordEnds(db, organizationId, [done]);
        return done;
      });
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

    /**
     * Each device's state per policy, from the latest command of every target the policy sent:
     * failed if one of them failed, pending while one is queued or sent, else applied.
     */
    async policyStates(organizationId: string, deviceIds: string[]): Promise<Map<string, PolicyState[]>> {
      const states = new Map<string, PolicyState[]>(deviceIds.map((id) => [id, []]));
      for (const row of await repo().policyOutcomes(organizationId, deviceIds)) {
        states.get(row.deviceId)?.push({ policyId: row.policyId, state: row.failed ? 'failed' : row.pending ? 'pending' : 'applied' });
      }
      return states;
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
