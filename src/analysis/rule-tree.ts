/**
 * The rule tree as analysisd builds it (wazuh/wazuh 4.x src/analysisd/rules_list.c `OS_AddChild`, `_OS_AddRule`):
 * a rule goes under its `<if_sid>`/`<if_matched_sid>` parents, else under every rule of its `<if_level>` or
 * above, else under the rules of its `<if_group>`/`<if_matched_group>`, else it is a root; siblings are kept by
 * level, highest first.
 */
import type { Rule } from './rule-types.js';

/**
 * A rule's level while analysisd builds its tree: level 0 is held as 99 until every file is read (rules.c
 * "If rule is 0, set it to level 99 to have high priority"; `_setlevels` restores it afterwards).
 */
function linkLevel(level: number): number {
  return level === 0 ? 99 : level;
}

/**
 * Siblings in the order analysisd tries them: `_OS_AddRule` inserts a rule before the first sibling of a lower
 * level, so siblings go by level, highest first, level 0 before all (held as 99), and in load order within a
 * level. The first sibling that matches wins, so a level-10 rule is tried before a level-3 one whatever their
 * order in the file.
 */
function sortByLevel(rules: Rule[]): void {
  rules.sort((a, b) => linkLevel(b.level) - linkLevel(a.level));
}

/**
 * Leaves out the rules whose `<if_sid>`/`<if_matched_sid>` parent was left out (`skipped` names them as
 * "(rule N skipped"), and their own children after them, each reported in `skipped`. Returns the rules kept.
 */
export function dropOrphans(order: Rule[], rules: Map<string, Rule>, skipped: string[]): Rule[] {
  const gone = new Set(skipped.map((m) => /\(rule (\d+) skipped/.exec(m)?.[1]).filter((x): x is string => x !== undefined));
  const out = new Set<Rule>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const rule of order) {
      if (out.has(rule)) continue;
      const lost = [...rule.ifSid, ...rule.ifMatchedSid].find((pid) => gone.has(pid) && !rules.has(pid));
      if (lost === undefined) continue;
      skipped.push(`${rule.file}:${rule.line}: rule ${rule.id}: its parent rule ${lost} was left out (rule ${rule.id} skipped; the other rules are loaded)`);
      gone.add(rule.id);
      rules.delete(rule.id);
      out.add(rule);
      changed = true;
    }
  }
  return order.filter((r) => !out.has(r));
}

/** What else the caller knows exists (parents of rules it did not load on purpose): not an error, not linked. */
export interface KnownElsewhere {
  id?: (id: string) => boolean;
  group?: (group: string) => boolean;
}

/** Links `order` into a tree (children pushed onto their parents, siblings by level); returns the roots. */
export function linkTree(order: Rule[], rules: Map<string, Rule>, problems: string[], known: KnownElsewhere = {}): Rule[] {
  const roots: Rule[] = [];
  for (const rule of order) {
    const parentIds = [...rule.ifSid, ...rule.ifMatchedSid];
    const parentGroups = [...rule.ifGroup, ...rule.ifMatchedGroup];
    if (parentIds.length > 0) {
      for (const pid of parentIds) {
        const parent = rules.get(pid);
        if (parent) parent.children.push(rule);
        else if (!known.id?.(pid)) problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: parent rule ${pid} does not exist`);
      }
    } else if (rule.ifLevel !== undefined) {
      const parents = order.filter((r) => r !== rule && linkLevel(r.level) >= rule.ifLevel!);
      if (parents.length === 0) problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: no rule has level ${rule.ifLevel} or above`);
      for (const p of parents) p.children.push(rule);
    } else if (parentGroups.length > 0) {
      for (const g of parentGroups) {
        const parents = order.filter((r) => r !== rule && r.groups.includes(g));
        if (parents.length === 0 && !known.group?.(g)) problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: no rule is in group '${g}'`);
        for (const p of parents) p.children.push(rule);
      }
    } else roots.push(rule);
  }
  sortByLevel(roots);
  for (const rule of order) sortByLevel(rule.children);
  return roots;
}
