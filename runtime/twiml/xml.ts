/**
 * XML text → TwimlElement tree with fast-xml-parser (order preserved,
 * attributes and text kept, comments and declarations dropped).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PARSE_FAILURE, type TwimlElement } from './element.js';
import type { Result, TwimlError } from './types.js';

const ATTRS = ':@';
const TEXT = '#text';

/** The XMLParser options TwiML is read with (benchmarks parse alike). */
export const XML_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // numeric character references (&#233; &#x2B;) decode like the five named entities
  htmlEntities: true,
} as const;

const parser = new XMLParser(XML_OPTIONS);

type RawNode = Record<string, unknown>;

/** Name of the element held by a preserveOrder node, or undefined for text. */
function nodeName(node: RawNode): string | undefined {
  return Object.keys(node).find((k) => k !== ATTRS && k !== TEXT);
}

function build(node: RawNode, name: string, path: string): TwimlElement {
  const rawAttrs = (node[ATTRS] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = String(v);
  const el: TwimlElement = { name, attrs, children: [], text: '', path };
  const seen = new Map<string, number>();
  for (const child of (node[name] ?? []) as RawNode[]) {
    const childName = nodeName(child);
    if (childName === undefined) {
      if (child[TEXT] !== undefined) el.text += String(child[TEXT]);
      continue;
    }
    const index = seen.get(childName) ?? 0;
    seen.set(childName, index + 1);
    el.children.push(build(child, childName, `${path}/${childName}[${index}]`));
  }
  return el;
}

/**
 * Parse `xml` into its single root element.
 * @return the root, or error 12100 when the text is empty, not well-formed
 *   or has several roots / text outside the root.
 */
export function parseXml(xml: string): Result<TwimlElement, TwimlError> {
  const fail = (message: string): Result<TwimlElement, TwimlError> =>
    ({ ok: false, error: { code: PARSE_FAILURE, message, path: '' } });
  if (xml.trim() === '') return fail('document is empty');
  const check = XMLValidator.validate(xml);
  if (check !== true) {
    return fail(`document is not well-formed XML: ${check.err.msg} (line ${check.err.line}, column ${check.err.col ?? '?'})`);
  }
  if (!xml.trimEnd().endsWith('>')) return fail('document has text after its root element');
  let nodes: RawNode[];
  try {
    nodes = parser.parse(xml) as RawNode[];
  } catch (e) {
    return fail(`document is not well-formed XML: ${(e as Error).message}`);
  }
  const roots = nodes.filter((n) => nodeName(n) !== undefined);
  const strayText = nodes.some((n) => nodeName(n) === undefined && String(n[TEXT] ?? '').trim() !== '');
  const root = roots[0];
  if (root === undefined || roots.length > 1 || strayText) {
    return fail(`document must have exactly one root element (found ${roots.length}${strayText ? ' and text outside it' : ''})`);
  }
  const name = nodeName(root) as string;
  return { ok: true, value: build(root, name, name) };
}
