import { ObjectId } from 'bson';

/** 24 lowercase hex characters, seconds timestamp first, so ids sort by creation. */
export function newId(): string {
  return new ObjectId().toHexString();
}

export const ID_PATTERN = '^[a-fA-F0-9]{24}$';
const ID_RE = new RegExp(ID_PATTERN);

export function isId(value: string): boolean {
  return ID_RE.test(value);
}
