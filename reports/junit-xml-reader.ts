// A small strict reader for the XML perpx writes (junit.xml), used by the tests to check that
// the file is well-formed and to count its elements: elements, double- or single-quoted
// attributes, text, the five named entities and numeric references, comments, one XML
// declaration. It throws on anything malformed (unbalanced or crossed tags, duplicate
// attributes, a raw '<' or '&', characters XML 1.0 forbids, content outside the one root).
// Not a general XML parser: no DTDs, no CDATA, no namespaces.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, at: number): string {
  if (raw.includes('<')) throw new Error(`raw '<' in text or attribute near offset ${at}`);
  return raw.replace(/&([^;\s&<]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`unterminated entity near offset ${at}`);
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    const v = ENTITIES[name];
    if (v === undefined) throw new Error(`unknown entity &${name}; near offset ${at}`);
    return v;
  });
}

export function parseXml(xml: string): XmlElement {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.exec(xml);
  if (bad !== null) throw new Error(`character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML 1.0 (offset ${bad.index})`);
  let i = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(xml);
    if (m === null) throw new Error(`expected a name at offset ${i}`);
    i += m[0].length;
    return m[0];
  };
  const skipWs = (): void => { while (i < xml.length && /\s/.test(xml[i]!)) i++; };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0) {
      if (text.trim() !== '') throw new Error(`text outside the root element at offset ${i}`);
    } else {
      stack.at(-1)!.text += decode(text, i);
    }
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipWs();
      if (xml[i] !== '>') throw new Error(`expected '>' after </${name} at offset ${i}`);
      i++;
      const open = stack.pop();
      if (open === undefined || open.name !== name) throw new Error(`</${name}> closes ${open === undefined ? 'nothing' : `<${open.name}>`}`);
      continue;
    }
    i++;
    const el: XmlElement = { name: readName(), attrs: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      skipWs();
      if (xml.startsWith('/>', i) || xml[i] === '>') break;
      if (i === before) throw new Error(`expected whitespace before an attribute at offset ${i}`);
      const an = readName();
      skipWs();
      if (xml[i] !== '=') throw new Error(`expected '=' after attribute ${an} at offset ${i}`);
      i++;
      skipWs();
      const q = xml[i];
      if (q !== '"' && q !== "'") throw new Error(`attribute ${an} value must be quoted (offset ${i})`);
      const end = xml.indexOf(q, i + 1);
      if (end < 0) throw new Error(`unterminated attribute ${an}`);
      if (Object.hasOwn(el.attrs, an)) throw new Error(`duplicate attribute ${an} on <${el.name}>`);
      el.attrs[an] = decode(xml.slice(i + 1, end), i);
      i = end + 1;
    }
    const selfClose = xml.startsWith('/>', i);
    i += selfClose ? 2 : 1;
    if (stack.length > 0) stack.at(-1)!.children.push(el);
    else if (root === null) root = el;
    else throw new Error(`a second root element <${el.name}>`);
    if (!selfClose) stack.push(el);
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (root === null) throw new Error('no root element');
  return root;
}
