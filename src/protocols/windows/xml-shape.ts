/**
 * A linear pass over a device's XML before the DOM parser sees it. @xmldom/xmldom's cost grows
 * faster than the input for some shapes (deep nesting, many siblings, many attributes or
 * namespace declarations): half a megabyte of `<a xmlns:p="u">` held the event loop for 29 s,
 * before any credential was read. Enrollment messages are a few kilobytes; an OMA-DM message
 * may fill the device's MaxMsgSize with Statuses and Results (ten nodes an item and one
 * namespace declaration in its Meta), so the node and attribute bounds leave room for a few
 * thousand items while keeping the parser's work proportional to what a device may send.
 */
export interface XmlShapeLimits {
  maxDepth: number;
  /** Elements, text runs, comments, CDATA sections and processing instructions, counted together. */
  maxNodes: number;
  /** Attributes (namespace declarations included) on one element. */
  maxAttributesPerElement: number;
  /** Attributes in the whole document: the parser's dearest item (a few microseconds each). */
  maxAttributes: number;
  /** Entity and character references (`&...;`), in text and attribute values. */
  maxReferences: number;
}

export const DEVICE_XML_LIMITS: XmlShapeLimits = { maxDepth: 32, maxNodes: 32_768, maxAttributesPerElement: 32, maxAttributes: 4096, maxReferences: 8192 };

const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const EQUALS = 0x3d;
const GREATER = 0x3e;
const AMPERSAND = 0x26;

function countAmpersands(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('&', from); at !== -1 && at < to; at = text.indexOf('&', at + 1)) count++;
  return count;
}

/**
 * Returns why `text` exceeds the limits or cannot be XML, or null when the parser may have it.
 * Every character is looked at a bounded number of times: the cost is linear in the length.
 */
export function xmlShapeProblem(text: string, limits: XmlShapeLimits = DEVICE_XML_LIMITS): string | null {
  let depth = 0;
  let nodes = 0;
  let references = 0;
  let totalAttributes = 0;
  let at = 0;
  const length = text.length;
  const count = (): string | null => (++nodes > limits.maxNodes ? `more than ${limits.maxNodes} nodes` : null);
  while (at < length) {
    const open = text.indexOf('<', at);
    const textEnd = open === -1 ? length : open;
    if (textEnd > at) {
      references += countAmpersands(text, at, textEnd);
      const problem = count();
      if (problem) return problem;
    }
    if (references > limits.maxReferences) return `more than ${limits.maxReferences} entity references`;
    if (open === -1) break;

    let close: number;
    let terminator: string;
    if (text.startsWith('<!--', open)) terminator = '-->';
    else if (text.startsWith('<![CDATA[', open)) terminator = ']]>';
    else if (text.startsWith('<?', open)) terminator = '?>';
    else if (text.startsWith('<!', open) || text.startsWith('</', open)) terminator = '>';
    else terminator = '';

    if (terminator !== '') {
      close = text.indexOf(terminator, open + 2);
      if (close === -1) return 'a markup declaration or end tag is not closed';
      if (text.startsWith('</', open)) depth--;
      else if (terminator !== '>') {
        // A comment, CDATA section or processing instruction (a DOCTYPE is refused before this).
        const problem = count();
        if (problem) return problem;
      }
      at = close + terminator.length;
      continue;
    }

    // A start tag: up to the first '>' outside a quoted attribute value.
    let attributes = 0;
    let quote = 0;
    let cursor = open + 1;
    for (; cursor < length; cursor++) {
      const code = text.charCodeAt(cursor);
      if (quote !== 0) {
        if (code === quote) quote = 0;
        else if (code === AMPERSAND) references++;
      } else if (code === QUOTE || code === APOSTROPHE) quote = code;
      else if (code === EQUALS) attributes++;
      else if (code === GREATER) break;
    }
    if (cursor >= length) return 'a start tag is not closed';
    if (attributes > limits.maxAttributesPerElement) return `an element has more than ${limits.maxAttributesPerElement} attributes`;
    totalAttributes += attributes;
    if (totalAttributes > limits.maxAttributes) return `more than ${limits.maxAttributes} attributes`;
    if (references > limits.maxReferences) return `more than ${limits.maxReferences} entity references`;
    const problem = count();
    if (problem) return problem;
    if (text.charCodeAt(cursor - 1) !== 0x2f && ++depth > limits.maxDepth) return `elements nested more than ${limits.maxDepth} deep`;
    at = cursor + 1;
  }
  return null;
}
