import type { deviceCommands } from '../../db/schema.ts';

/** The command queue's vocabulary, shared by its repository, its service and the protocol encoders. */

export const COMMAND_PLATFORMS = ['windows', 'apple'] as const;
export type CommandPlatform = (typeof COMMAND_PLATFORMS)[number];

export const COMMAND_STATUSES = ['queued', 'sent', 'acknowledged', 'error'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export type CommandCounts = Record<CommandStatus, number>;

export type DeviceCommandRecord = typeof deviceCommands.$inferSelect;

/** A JSON value as jsonb keeps it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a Windows command carries besides its verb and LocURI (OMA-DM 1.2 Item/Meta/Data).
 * `format` is the Meta/Format (`int`, `chr`, `bool`, `b64`, `xml`, `float`), `type` the
 * Meta/Type (a MIME type), both absent for a Get or a Delete.
 */
export interface WindowsCommandPayload {
  format?: string;
  type?: string;
  data?: string;
}

/**
 * An Apple command's fields beside RequestType (`Queries`, `Identifier`, `Payload`, ...), as
 * the plist's Command dictionary takes them; `{"$data": "<base64>"}` stands for a plist data
 * value (a profile's bytes), which JSON has no type for.
 */
export type AppleCommandPayload = Record<string, JsonValue>;

/** A command to queue: what policy-plan and callers hand to enqueue(). */
export type NewDeviceCommand = {
  /** The OMA-DM verb (Replace, Add, Get, Delete, Exec) or the Apple RequestType. */
  type: string;
  /** The LocURI or the profile's PayloadIdentifier; null for queries. */
  target: string | null;
  source?: { tokenId: string | null; policyId: string | null };
} & ({ payload?: WindowsCommandPayload } | { payload?: AppleCommandPayload });

/** What a device answered about a command (CONTRACT.md section 6, `result`). */
export interface CommandResult {
  code: number | null;
  message: string | null;
  errorChain?: JsonValue[];
}

/** Where a Windows command was sent: the session, the server message's MsgID and its CmdID. */
export interface SentUnder {
  sessionId: string;
  msgId: string;
  /** The CmdID of the first command handed out; the others follow, one each. */
  firstCmdId: number;
}

/** Where a device stands with one policy of its token (CONTRACT.md section 6; policyId null: the token's own items). */
export const POLICY_STATES = ['pending', 'applied', 'failed'] as const;
export interface PolicyState {
  policyId: string | null;
  state: (typeof POLICY_STATES)[number];
}

export function emptyCounts(): CommandCounts {
  return { queued: 0, sent: 0, acknowledged: 0, error: 0 };
}

/** A queued command as the token's trail notes it (`commands.queued`, token-device-access.ts `recordQueuedCommands`). */
export function queuedNote(c: DeviceCommandRecord): { id: string; type: string; target: string | null; policyId: string | null } {
  return { id: c.id, type: c.type, target: c.target, policyId: c.sourcePolicyId };
}
