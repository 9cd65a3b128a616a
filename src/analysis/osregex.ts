/**
 * Wazuh's pattern syntaxes compiled to JavaScript RegExps, once, at rule-load time.
 * - OS_Regex (`<regex>`, `<field>` default type): `\d \w \s \p \W \D \S`, `\.` = any character, `+`/`*`
 *   after an escape, `^`/`$` anchors, `|` alternatives, `( )` groups; every other character is literal
 *   (a plain `.` is a dot). Unanchored: matches anywhere. Case-insensitive, as analysisd's: os_regex compares
 *   pattern and text through its `charmap` table, which maps upper-case letters to lower-case
 *   (wazuh/wazuh src/os_regex/os_regex_execute.c, os_regex_maps.c).
 * - OS_Match (`<match>`): literal text with `|` alternatives, `^` prefix and `$` suffix anchors, case-insensitive.
 * - PCRE2 (`type="pcre2"`): passed to RegExp (a leading `(?i)` becomes the i flag).
 */

const CLASSES: Record<string, string> = {
  d: '[0-9]',
  w: '[A-Za-z0-9@_-]',
  s: '[ ]',
  p: '[()*+,\\-.:;<=>?[\\]!"\'#$%&|{}]',
  W: '[^A-Za-z0-9@_-]',
  D: '[^0-9]',
  S: '[^ ]',
  '.': '[\\s\\S]',
  t: '\\t',
};

function escapeLiteral(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** OS_Regex → RegExp source. Throws on a dangling escape. */
export function osRegexSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const n = pattern[++i];
      if (n === undefined) throw new Error(`pattern ends with a lone backslash: ${pattern}`);
      out += CLASSES[n] ?? escapeLiteral(n);
    } else if (c === '^' || c === '$' || c === '|' || c === '(' || c === ')' || c === '+' || c === '*') {
      out += c;
    } else {
      out += escapeLiteral(c);
    }
  }
  return out;
}

export function compileOsRegex(pattern: string): RegExp {
  return new RegExp(osRegexSource(pattern), 'i');
}

/** OS_Match: `a|^b|c$` as case-insensitive literals with optional anchors (os_match uses the same charmap). */
export function compileOsMatch(pattern: string): RegExp {
  const alts = pattern.split('|').map((alt) => {
    const start = alt.startsWith('^');
    const end = alt.endsWith('$') && !alt.endsWith('\\$');
    const body = alt.slice(start ? 1 : 0, end ? -1 : undefined);
    return `${start ? '^' : ''}${body.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}${end ? '$' : ''}`;
  });
  return new RegExp(alts.join('|'), 'i');
}

export function compilePcre2(pattern: string): RegExp {
  const ci = pattern.startsWith('(?i)');
  return new RegExp(ci ? pattern.slice(4) : pattern, ci ? 'i' : '');
}
