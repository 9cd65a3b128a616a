/**
 * Reads an ossec.conf into a small element tree with line numbers. Wazuh accepts several `<ossec_config>`
 * roots in one file and raw `&` in text (e.g. `&&` in commands), which strict XML parsers reject, so the
 * text is wrapped in one synthetic root and bare `&` are escaped first (line numbers are unchanged).
 */
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
  line: number;
}

export interface XmlProblem {
  line: number;
  column: number;
  message: string;
}

const BARE_AMP = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/g;

/** Parses `text`; returns the synthetic root (whose children are the file's top-level elements) and problems. */
export function parseXml(text: string): { root: XmlElement; problems: XmlProblem[] } {
  const root: XmlElement = { name: '#root', attributes: {}, children: [], text: '', line: 1 };
  const problems: XmlProblem[] = [];
  const stack: XmlElement[] = [root];
  const parser = new SaxesParser({ position: true });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) attributes[k] = typeof v === 'string' ? v : v.value;
    const el: XmlElement = { name: tag.name, attributes, children: [], text: '', line: parser.line };
    stack[stack.length - 1]?.children.push(el);
    stack.push(el);
  });
  parser.on('closetag', () => {
    if (stack.length > 1) stack.pop();
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('error', (err) => {
    const m = /^(\d+):(\d+): (.*)$/s.exec(err.message);
    problems.push(m ? { line: Number(m[1]), column: Number(m[2]), message: m[3] ?? err.message } : { line: parser.line, column: parser.column, message: err.message });
  });
  // The synthetic root sits on the first line, so element line numbers stay those of the file.
  const wrapped = `<tld-root>${text.replace(BARE_AMP, '&amp;')}</tld-root>`;
  try {
    parser.write(wrapped).close();
  } catch {
    // errors are collected by the handler; saxes may throw after reporting
  }
  const top = root.children[0];
  return { root: top ?? root, problems: dedupe(problems) };
}

function dedupe(problems: XmlProblem[]): XmlProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
