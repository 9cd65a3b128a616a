/**
 * The saved objects: the shipped NDJSON is the generated one, every reference resolves, and every field a view
 * reads (aggregations, columns, sort, query) exists in the template of its index pattern with a type the use
 * needs (numbers for sums, dates for histograms, no `text` for terms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { INDEX_PATTERNS, NDJSON_PATH, savedObjects, savedObjectsNdjson, type SavedObject } from './saved-objects.js';
import { templates } from './templates.js';

const root = new URL('../../', import.meta.url);

/** Dotted path → type of a template's mapping. */
function fieldsOf(template: object): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(props)) {
      const d = v as { type?: string; properties?: Record<string, unknown> };
      if (d.properties) walk(d.properties, `${prefix}${k}.`);
      else if (d.type) out.set(prefix + k, d.type);
    }
  };
  walk((template as { template: { mappings: { properties: Record<string, unknown> } } }).template.mappings.properties, '');
  return out;
}

/** The template whose index patterns cover an index pattern's title (`tld-flows-*` → tld-flows). */
function templateFor(title: string): Map<string, string> {
  const sample = title.replace('*', '2026.01.01');
  const found = Object.values(templates()).find((t) => (t as { index_patterns: string[] }).index_patterns.some((p) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(sample)));
  assert.ok(found, `a template for ${title}`);
  return fieldsOf(found);
}

const NUMERIC = new Set(['long', 'integer', 'short', 'float', 'double']);

/** Field uses of an object: [field, what it must be] */
function uses(o: SavedObject): [string, 'number' | 'date' | 'aggregatable' | 'any'][] {
  const out: [string, 'number' | 'date' | 'aggregatable' | 'any'][] = [];
  const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string } | undefined;
  const query = meta ? ((JSON.parse(meta.searchSourceJSON) as { query: { query: string } }).query.query) : '';
  for (const m of query.matchAll(/([A-Za-z_@][\w.@]*):/g)) out.push([m[1]!, 'any']);
  if (o.type === 'visualization') {
    const state = JSON.parse(o.attributes.visState as string) as { aggs: { type: string; params: { field?: string } }[] };
    for (const a of state.aggs) {
      if (!a.params.field) continue;
      out.push([a.params.field, a.type === 'sum' || a.type === 'max' || a.type === 'avg' ? 'number' : a.type === 'date_histogram' ? 'date' : 'aggregatable']);
    }
  }
  if (o.type === 'search') {
    for (const c of o.attributes.columns as string[]) out.push([c, 'any']);
    for (const [f] of o.attributes.sort as [string, string][]) out.push([f, 'date']);
  }
  return out;
}

test('deploy/indexer/saved-objects.ndjson is the generated one (regenerate: node --import tsx src/indexer/saved-objects.ts --write)', () => {
  assert.equal(readFileSync(new URL(NDJSON_PATH, root), 'utf8'), savedObjectsNdjson());
});

test('every reference resolves to an object of the set, of the type it names; ids are unique', () => {
  const all = savedObjects();
  const ids = new Map(all.map((o) => [o.id, o.type]));
  assert.equal(ids.size, all.length);
  for (const o of all) for (const r of o.references) assert.equal(ids.get(r.id), r.type, `${o.id} → ${r.id}`);
  const panels = all.filter((o) => o.type === 'dashboard').flatMap((d) => d.references.map((r) => r.id));
  const views = all.filter((o) => o.type === 'visualization' || o.type === 'search').map((o) => o.id);
  assert.deepEqual(views.filter((v) => !panels.includes(v)), [], 'every view is on a dashboard');
});

test("every view's index pattern and fields exist in the templates, with the types its aggregations need", () => {
  let checked = 0;
  for (const [id, [title, timeField]] of Object.entries(INDEX_PATTERNS)) {
    assert.equal(templateFor(title).get(timeField), 'date', `${id}: time field ${timeField}`);
  }
  for (const o of savedObjects().filter((x) => x.type === 'visualization' || x.type === 'search')) {
    const pattern = o.references[0]!.id as keyof typeof INDEX_PATTERNS;
    const fields = templateFor(INDEX_PATTERNS[pattern][0]);
    for (const [field, need] of uses(o)) {
      const type = fields.get(field);
      assert.ok(type, `${o.id}: ${field} is not in the template of ${INDEX_PATTERNS[pattern][0]}`);
      if (need === 'number') assert.ok(NUMERIC.has(type), `${o.id}: ${field} is ${type}, not a number`);
      if (need === 'date') assert.equal(type, 'date', `${o.id}: ${field}`);
      if (need === 'aggregatable') assert.notEqual(type, 'text', `${o.id}: ${field} is text (not aggregatable)`);
      checked++;
    }
  }
  assert.ok(checked >= 40, `${checked} field uses checked`);
});
