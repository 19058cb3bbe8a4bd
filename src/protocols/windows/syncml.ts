import { SoapFault } from './soap-faults.ts';
import { readStatus, type SyncmlStatus } from './syncml-commands.ts';
import { child, children, elementChildren, escapeXml, parseXml, textOf, XmlFormatError, type XmlElement } from './xml.ts';

/** OMA-DM 1.2 (DM Representation Protocol) as Windows speaks it (MS-MDM). */
export const SYNCML_NS = 'SYNCML:SYNCML1.2';
export const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';
export const UNENROLL_ALERT_TYPE = 'com.microsoft:mdm.unenrollment.userrequest';

/** Commands a client may send; each gets a Status (Status itself never does). */
const CLIENT_COMMANDS = new Set(['Alert', 'Replace', 'Add', 'Results', 'Get', 'Exec', 'Delete', 'Atomic', 'Sequence', 'Copy']);

export interface SyncmlItem {
  sourceUri: string | undefined;
  targetUri: string | undefined;
  metaType: string | undefined;
  data: string | undefined;
}

export interface SyncmlCommand {
  name: string;
  cmdId: string;
  /** An Alert's code (1201, 1224, 1226, ...). */
  data: string | undefined;
  items: SyncmlItem[];
}

export interface SyncmlMessage {
  sessionId: string;
  msgId: string;
  /** The device's DeviceID (SyncHdr/Source/LocURI). */
  source: string;
  target: string | undefined;
  commands: SyncmlCommand[];
  /** Command queue (issue 23): the device's Statuses, which complete the commands they name. */
  statuses: SyncmlStatus[];
  final: boolean;
  /** The largest answer the device takes, in bytes (SyncHdr/Meta/MaxMsgSize), when it says. */
  maxMsgSize: number | undefined;
}

const SHORT = /^[\x21-\x7e]{1,64}$/;

function item(el: XmlElement): SyncmlItem {
  return {
    sourceUri: textOf(child(child(el, SYNCML_NS, 'Source'), SYNCML_NS, 'LocURI')),
    targetUri: textOf(child(child(el, SYNCML_NS, 'Target'), SYNCML_NS, 'LocURI')),
    // Any namespace: Microsoft's own unenrollment sample spells metinf as "syncml:metinfo".
    metaType: textOf(child(child(el, SYNCML_NS, 'Meta'), null, 'Type')),
    data: textOf(child(el, SYNCML_NS, 'Data')),
  };
}

export function parseSyncml(text: string): SyncmlMessage {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    if (error instanceof XmlFormatError) throw new SoapFault('MessageFormat', `The message is not well-formed XML (${error.message}).`);
    throw error;
  }
  if (root.localName !== 'SyncML' || (root.namespaceURI ?? '').toUpperCase() !== SYNCML_NS) throw new SoapFault('MessageFormat', 'The message is not a SyncML 1.2 message.');
  const header = child(root, SYNCML_NS, 'SyncHdr');
  const body = child(root, SYNCML_NS, 'SyncBody');
  const sessionId = textOf(child(header, SYNCML_NS, 'SessionID'));
  const msgId = textOf(child(header, SYNCML_NS, 'MsgID'));
  const source = textOf(child(child(header, SYNCML_NS, 'Source'), SYNCML_NS, 'LocURI'));
  if (!header || !body || !sessionId || !msgId || !source) throw new SoapFault('MessageFormat', 'The SyncML header lacks SessionID, MsgID or Source.');
  if (!SHORT.test(sessionId) || !/^\d{1,9}$/.test(msgId) || source.length > 256) throw new SoapFault('MessageFormat', 'The SyncML header has invalid values.');
  const commands: SyncmlCommand[] = [];
  const statuses: SyncmlStatus[] = [];
  for (const el of elementChildren(body)) {
    // Command queue (issue 23): a Status answers a command the server sent.
    if (el.localName === 'Status') {
      const status = readStatus(el);
      if (status) statuses.push(status);
      continue;
    }
    if (el.localName === 'Final') continue;
    commands.push({
      name: el.localName ?? '',
      cmdId: textOf(child(el, SYNCML_NS, 'CmdID')) ?? '',
      data: textOf(child(el, SYNCML_NS, 'Data')),
      items: children(el, SYNCML_NS, 'Item').map(item),
    });
  }
  if (commands.length + statuses.length > 1000) throw new SoapFault('MessageFormat', 'The SyncML message has too many commands.');
  const maxText = textOf(child(child(header, SYNCML_NS, 'Meta'), null, 'MaxMsgSize'));
  const maxMsgSize = maxText && /^\d{1,10}$/.test(maxText) ? Number(maxText) : undefined;
  return { maxMsgSize, sessionId, msgId, source, target: textOf(child(child(header, SYNCML_NS, 'Target'), SYNCML_NS, 'LocURI')), commands, statuses, final: !!child(body, SYNCML_NS, 'Final') };
}

/**
 * The server's answer: a Status for the header (CmdRef 0) and one for every command, in order,
 * then the queued commands (issue 23; already encoded, numbered from firstCommandId), then
 * Final. The server's MsgID follows the client's: messages alternate within a session.
 */
export function syncmlResponse(message: SyncmlMessage, serverUri: string, queuedCommands = ''): string {
  let cmdId = 0;
  const status = (cmdRef: string, cmd: string, code: number) =>
    `<Status><CmdID>${++cmdId}</CmdID><MsgRef>${escapeXml(message.msgId)}</MsgRef><CmdRef>${escapeXml(cmdRef)}</CmdRef><Cmd>${escapeXml(cmd)}</Cmd><Data>${code}</Data></Status>`;
  const statuses = [status('0', 'SyncHdr', 200)];
  for (const command of message.commands) {
    // 406: optional feature not supported (a command name DM 1.2 does not define).
    statuses.push(status(command.cmdId, command.name, CLIENT_COMMANDS.has(command.name) && command.cmdId ? 200 : command.cmdId ? 406 : 400));
  }
  return (
    `<SyncML xmlns="${SYNCML_NS}">` +
    `<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${escapeXml(message.sessionId)}</SessionID><MsgID>${escapeXml(message.msgId)}</MsgID>` +
    `<Target><LocURI>${escapeXml(message.source)}</LocURI></Target><Source><LocURI>${escapeXml(serverUri)}</LocURI></Source></SyncHdr>` +
    `<SyncBody>${statuses.join('')}${queuedCommands}<Final/></SyncBody>` +
    `</SyncML>`
  );
}

/**
 * The ./DevInfo nodes Openroll keeps: the whole DevInfo CSP (MS-MDM; Windows reports it in its
 * first message). A device may send any node name it likes; anything else is ignored, so what a
 * device can store on its row is bounded: five values of at most DEVINFO_MAX_LENGTH characters.
 */
export const KEPT_DEVINFO_NODES = ['DevId', 'Man', 'Mod', 'DmV', 'Lang'] as const;
export const DEVINFO_MAX_LENGTH = 256;
const KEPT = new Set<string>(KEPT_DEVINFO_NODES);

/**
 * A DevInfo value as it can be stored and shown: control characters dropped (`&#0;` is a NUL,
 * which PostgreSQL refuses in text and jsonb), lone surrogates replaced, then bounded.
 */
function devInfoValue(value: string): string {
  const bounded = value.replace(/\p{Cc}/gu, '').slice(0, DEVINFO_MAX_LENGTH);
  return bounded.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** ./DevInfo/* values of the message's Replace (and Add) commands, only the kept nodes, bounded. */
export function devInfoOf(message: SyncmlMessage): Record<string, string> {
  const info = new Map<string, string>();
  for (const command of message.commands) {
    if (command.name !== 'Replace' && command.name !== 'Add') continue;
    for (const it of command.items) {
      const uri = it.sourceUri ?? '';
      const name = uri.startsWith('./DevInfo/') ? uri.slice('./DevInfo/'.length) : '';
      if (KEPT.has(name) && it.data !== undefined) info.set(name, devInfoValue(it.data));
    }
  }
  return Object.fromEntries(info);
}

/** Only the kept nodes of a stored DevInfo, each bounded (rows written before the bound had any). */
export function keptDevInfo(stored: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_DEVINFO_NODES) {
    const value = stored[name];
    if (typeof value === 'string') kept[name] = devInfoValue(value);
  }
  return kept;
}

export function isUnenrollment(message: SyncmlMessage): boolean {
  return message.commands.some((c) => c.name === 'Alert' && c.data === '1226' && c.items.some((i) => i.metaType === UNENROLL_ALERT_TYPE));
}
