import { readFileSync } from 'node:fs';

const DIR = new URL('../../fixtures/apple/', import.meta.url);

/** A check-in fixture (see test/fixtures/apple/README.md) with its placeholders filled in. */
export function fixture(name: string, values: { topic?: string; udid?: string; serial?: string } = {}): Buffer {
  const text = readFileSync(new URL(name, DIR), 'utf8')
    .replaceAll('{{TOPIC}}', values.topic ?? '')
    .replaceAll('{{UDID}}', values.udid ?? '')
    .replaceAll('{{SERIAL}}', values.serial ?? '');
  return Buffer.from(text, 'utf8');
}

export const CHECKIN_TYPE = 'application/x-apple-aspen-mdm-checkin';
export const MDM_TYPE = 'application/x-apple-aspen-mdm';
export const PKI_TYPE = 'application/x-pki-message';
