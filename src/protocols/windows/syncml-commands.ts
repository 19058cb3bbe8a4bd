import type { DeviceCommandRecord, WindowsCommandPayload } from '../../devices/commands/device-command.ts';
import type { WindowsStatusReport } from '../../devices/commands/device-commands.service.ts';
import { child, escapeXml, textOf, type XmlElement } from './xml.ts';

/**
 * The command queue in OMA-DM 1.2 (OMA-TS-DM_RepPro 1.2; MS-MDM 2.2): queued commands encoded
 * after the server's Statuses, and the device's Statuses read back. Pure functions.
 */

const NS = 'SYNCML:SYNCML1.2';
const METINF = 'syncml:metinf';

/** Commands in one server message: Windows' default MaxMsgSize (512 KB) bounds the message too. */
export const WINDOWS_COMMANDS_PER_MESSAGE = 20;
/** The MaxMsgSize Windows uses when its header names none (MS-MDM: 512 KB). */
export const DEFAULT_MAX_MSG_SIZE = 524_288;

/** One Status the device sent, as the queue reads it (a Status with no numeric code is no answer). */
export interface SyncmlStatus extends WindowsStatusReport {
  cmd: string | undefined;
}

export function readStatus(el: XmlElement): SyncmlStatus | undefined {
  const msgRef = textOf(child(el, NS, 'MsgRef'));
  const cmdRef = textOf(child(el, NS, 'CmdRef'));
  const data = textOf(child(el, NS, 'Data'));
  if (!msgRef || !cmdRef || !data || !/^\d{3}$/.test(data)) return undefined;
  // A failed command's Status may say why in its Item/Data (MS-MDM: e.g. the CSP's error text).
  // Stored as jsonb, which refuses NUL and lone surrogates: control characters dropped, halves replaced.
  const detail = textOf(child(child(el, NS, 'Item'), NS, 'Data'))
    ?.replace(/\p{Cc}/gu, '')
    .slice(0, 1_024)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return { msgRef, cmdRef, code: Number(data), cmd: textOf(child(el, NS, 'Cmd')), ...(detail ? { detail } : {}) };
}

/**
 * The CmdID of the first queued command in the answer to `commandCount` client commands:
 * the answer's Statuses take 1 (the header) to commandCount + 1, as syncmlResponse numbers them.
 */
export function firstCommandId(commandCount: number): number {
  return commandCount + 2;
}

/** A verb with its Item: Target/LocURI, then Meta (Format, Type in syncml:metinf) and Data when it carries them. */
export function encodeCommand(command: DeviceCommandRecord): string {
  const payload = command.payload as WindowsCommandPayload;
  const meta =
    payload.format !== undefined || payload.type !== undefined
      ? `<Meta>${payload.format !== undefined ? `<Format xmlns="${METINF}">${escapeXml(payload.format)}</Format>` : ''}${payload.type !== undefined ? `<Type xmlns="${METINF}">${escapeXml(payload.type)}</Type>` : ''}</Meta>`
      : '';
  const data = payload.data !== undefined ? `<Data>${escapeXml(payload.data)}</Data>` : '';
  const target = command.target !== null ? `<Target><LocURI>${escapeXml(command.target)}</LocURI></Target>` : '';
  return `<${command.type}><CmdID>${escapeXml(command.cmdId ?? '')}</CmdID><Item>${target}${meta}${data}</Item></${command.type}>`;
}

/** The commands of one server message, in the order they were queued (their CmdIDs were given when taken). */
export function encodeCommands(commands: DeviceCommandRecord[]): string {
  return commands.map(encodeCommand).join('');
}
