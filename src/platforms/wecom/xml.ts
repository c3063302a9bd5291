// WeCom's XML (https://developer.work.weixin.qq.com/document/path/90240), parsed without any coercion:
// `<FromUserName>00123</…>` stays "00123", `<EventKey>1e3</…>` stays "1e3", MsgId stays exact past 2^53.
// Repeating elements are always arrays.
import { XMLParser } from 'fast-xml-parser';
import { VerificationError } from '../shared/errors.ts';

export type WecomXmlValue = string | WecomXmlNode | WecomXmlValue[];
export interface WecomXmlNode {
  [name: string]: WecomXmlValue;
}

const ALWAYS_ARRAY = new Set(['SelectedItem', 'OptionId']);
const CDATA_SECTION = /<!\[CDATA\[[\s\S]*?\]\]>/g;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false, // keeps CDATA content exactly (a message may start with a space)
  processEntities: true, // only the five XML entities: DOCTYPE is refused below
  isArray: (name) => ALWAYS_ARRAY.has(name),
});

/** Drops the whitespace text fast-xml-parser keeps between elements when trimValues is off. */
function dropLayout(value: unknown): WecomXmlValue {
  if (Array.isArray(value)) return value.map(dropLayout);
  if (typeof value !== 'object' || value === null) return String(value);
  const node: WecomXmlNode = {};
  for (const [name, child] of Object.entries(value)) {
    if (name === '#text' && typeof child === 'string' && child.trim() === '') continue;
    node[name] = dropLayout(child);
  }
  return node;
}

/** Parses `<xml>…</xml>` into its children; malformed XML, a DOCTYPE or another root is `malformed_body`. */
export function parseWecomXml(xml: string, what = 'body'): WecomXmlNode {
  // A DOCTYPE (entity definitions) is refused; the same text inside CDATA is content, e.g. a message a user typed.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml.replace(CDATA_SECTION, ''))) {
    throw new VerificationError('malformed_body', `${what}: DOCTYPE not allowed`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch {
    throw new VerificationError('malformed_body', `${what} is not well-formed XML`);
  }
  const root = (dropLayout(doc) as WecomXmlNode).xml;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new VerificationError('malformed_body', `${what} has no single <xml> root`);
  }
  return root;
}

/** A child element's text; absent gives undefined, a repeated or nested element is `malformed_body`. */
export function xmlText(node: WecomXmlNode, name: string, what = 'body'): string | undefined {
  const value = node[name];
  if (value === undefined || typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  throw new VerificationError('malformed_body', `${what}: <${name}> is not a single text element`);
}

const CDATA_END = ']]>';

/** `<name><![CDATA[value]]></name>`, splitting any `]]>` inside the value so it stays well-formed. */
export function cdataElement(name: string, value: string): string {
  return `<${name}><![CDATA[${value.split(CDATA_END).join(']]]]><![CDATA[>')}]]></${name}>`;
}
