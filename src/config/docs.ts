/**
 * Renders the configuration reference from the schema into docs/config.md and the README's
 * `config-reference` block. `node --import tsx src/config/docs.ts --write` regenerates both.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SECTIONS } from './schema.js';

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The reference as Markdown tables, one per section. */
export function renderReference(): string {
  const out: string[] = [
    'Generated from `src/config/schema.ts`. Options go in `<ossec_config>`; Wazuh sections we do not use are ignored.',
    'Bucket types: `vpcflow`, `guardduty` (Firehose or native export), `cloudtrail`, `custom`.',
    'An empty element (`<interval></interval>`) is an error unless its description says it is ignored. An unknown tag is an error in the blocks ThreatLockDown owns (`<wodle name="aws-s3">`, `<bucket>`, `<dashboard>`, `<store>`), as Wazuh rejects them. In `<global>`, `<alerts>` and `<ruleset>`, which Wazuh shares with its other parts, Wazuh\'s own options are ignored, a misspelling of one of ours is an error ("did you mean <logall_json>?") and any other tag a warning. `tld check-config` also loads the rules and CDB lists as `tld run-once` does.',
    '',
  ];
  for (const s of SECTIONS) {
    out.push(`### ${s.title} — \`${s.element}\``, '', '| Tag | Type | Default | Allowed | Description |', '|---|---|---|---|---|');
    for (const o of s.options) {
      const def = o.default === undefined ? '—' : o.default === '' ? '(empty)' : `\`${o.default}\``;
      const attrs = o.attributes?.length ? ` ${o.attributes.map((a) => `${a}="…"`).join(' ')}` : '';
      const desc = `${o.description}${o.repeatable ? ' Repeatable.' : ''}${o.ifEmpty === 'ignored' ? ' Left empty, it is ignored (with a warning).' : ''}${o.deprecated ? ` **Deprecated**: ${o.deprecated}` : ''}`;
      out.push(`| \`<${o.tag}${attrs}>\` | ${cell(o.type)} | ${def} | ${cell(o.allowed ?? '—')} | ${cell(desc)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** README text with the reference block replaced. */
export function withReadmeBlock(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${renderReference()}\n${readme.slice(b)}`;
}

export function docsPage(): string {
  return `# Configuration reference\n\n${renderReference()}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const root = new URL('../../', import.meta.url);
  writeFileSync(new URL('docs/config.md', root), docsPage());
  const readme = new URL('README.md', root);
  writeFileSync(readme, withReadmeBlock(readFileSync(readme, 'utf8')));
  process.stdout.write('Wrote docs/config.md and the README reference block.\n');
}
