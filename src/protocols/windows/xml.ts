import { DOMParser, type Element } from '@xmldom/xmldom';
import { xmlShapeProblem } from './xml-shape.ts';

/**
 * Namespace-aware XML for the device protocols. Devices are untrusted: a document type
 * declaration (the door to entity expansion and external entities) is refused before parsing,
 * and anything the parser only warns about is an error, so a message is well-formed or refused.
 */
export class XmlFormatError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'XmlFormatError';
  }
}

export type XmlElement = Element;

const ELEMENT_NODE = 1;

export function parseXml(input: string): XmlElement {
  // A UTF-8 byte order mark before the declaration is legal XML; the parser would call it content.
  const text = input.replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new XmlFormatError('document type declarations are not accepted');
  if (text.trim() === '') throw new XmlFormatError('the body is empty');
  // Bounded before the DOM parser runs: its cost grows faster than the input for some shapes.
  const tooMuch = xmlShapeProblem(text);
  if (tooMuch) throw new XmlFormatError(tooMuch);
  let root: Element | null;
  try {
    const parser = new DOMParser({
      onError: (level, message) => {
        throw new XmlFormatError(`${level}: ${message.split('\n')[0] ?? ''}`);
      },
    });
    root = parser.parseFromString(text, 'text/xml').documentElement;
  } catch (error) {
    if (error instanceof XmlFormatError) throw error;
    throw new XmlFormatError(`not well-formed: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (!root) throw new XmlFormatError('no root element');
  return root;
}

/** Namespaces compared without a trailing slash: Windows sends the enrollment one both ways. */
function sameNamespace(a: string | null, b: string | null): boolean {
  return (a ?? '').replace(/\/$/, '') === (b ?? '').replace(/\/$/, '');
}

export function isElement(el: XmlElement, ns: string | null, localName: string): boolean {
  return el.localName === localName && sameNamespace(el.namespaceURI, ns);
}

export function elementChildren(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let node = el.firstChild; node; node = node.nextSibling) if (node.nodeType === ELEMENT_NODE) out.push(node as Element);
  return out;
}

/** Child elements with this namespace and local name; `ns` null matches any namespace. */
export function children(el: XmlElement, ns: string | null, localName: string): XmlElement[] {
  return elementChildren(el).filter((c) => c.localName === localName && (ns === null || sameNamespace(c.namespaceURI, ns)));
}

export function child(el: XmlElement | undefined, ns: string | null, localName: string): XmlElement | undefined {
  return el ? children(el, ns, localName)[0] : undefined;
}

/** The element's text, trimmed (Microsoft's samples wrap values in whitespace and newlines). */
export function textOf(el: XmlElement | undefined): string | undefined {
  if (!el) return undefined;
  return (el.textContent ?? '').trim();
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text and attribute values; characters XML 1.0 cannot carry are dropped, never echoed raw. */
export function escapeXml(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/g, (c, offset: number, s: string) => {
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = s.charCodeAt(offset + 1);
      return next >= 0xdc00 && next <= 0xdfff ? c : '';
    }
    if (code >= 0xdc00 && code <= 0xdfff) {
      const prev = s.charCodeAt(offset - 1);
      return prev >= 0xd800 && prev <= 0xdbff ? c : '';
    }
    return '';
  }).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
