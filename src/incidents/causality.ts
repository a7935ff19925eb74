/**
 * Causes across rules: an incident names the incidents it is a consequence of (a rule's
 * `causedBy` links: out of memory before failed requests, a full disk before missing blobs),
 * and a cause names the consequences known when it is reported. A cause is an incident of the
 * linked rule that was open when this one began, or had closed at most `withinMs` before.
 * Bounded: the last closed incidents of each rule, and the consequences of a limited number of
 * causes, are remembered.
 */
import type { AnyRule } from '../rules/rule';
import type { OpenGroup } from './group';
import type { Incident } from './incident';
import { stableHash } from './stable-hash';

/** A subject as remembered: itself when short, else its hash (a hostile line's 1 MB name is not kept). */
function subjectKey(name: string | null): string | null {
  return name === null || name.length <= 128 ? name : `#${stableHash([name])}`;
}

interface ClosedEntry {
  id: string;
  firstTime: number;
  lastTime: number;
  subject: string | null;
}

const CLOSED_PER_RULE = 64;
const MAX_CAUSES = 8;
const MAX_CONSEQUENCES = 50;
const MAX_TRACKED_CAUSES = 10_000;

export interface CausalityState {
  closed: Array<[number, ClosedEntry[]]>;
  consequences: Array<[string, string[]]>;
}

export class Causality {
  private readonly rules: readonly AnyRule[];
  /** By rule index: the rules whose incidents may cause it, with their windows. */
  private readonly links: Array<Array<{ rule: number; withinMs: number; sameSubject: boolean }>>;
  /** Rules some other rule names as a cause: only their closed incidents are remembered. */
  private readonly isCause: boolean[];
  private readonly closedByRule = new Map<number, ClosedEntry[]>();
  private readonly consequences = new Map<string, string[]>();

  constructor(rules: readonly AnyRule[]) {
    this.rules = rules;
    const index = new Map(rules.map((rule, i) => [rule.id, i]));
    this.links = rules.map((rule) =>
      (rule.causedBy ?? []).flatMap((link) => {
        const cause = index.get(link.rule);
        return cause === undefined ? [] : [{ rule: cause, withinMs: link.withinMs, sameSubject: link.sameSubject === true }];
      }),
    );
    this.isCause = rules.map(() => false);
    for (const list of this.links) for (const link of list) this.isCause[link.rule] = true;
  }

  /** The ids of the incidents that cause this group's, and registers it as their consequence. */
  causesOf(group: OpenGroup, subject: string | null, openGroupsOf: (rule: number) => Iterable<OpenGroup>): string[] {
    const links = this.links[group.rule] ?? [];
    if (links.length === 0) return [];
    const found: string[] = [];
    for (const link of links) {
      for (const cause of openGroupsOf(link.rule)) {
        if (cause.firstTime > group.firstTime || cause.id === group.id) continue;
        if (link.sameSubject && cause.key !== subject) continue;
        found.push(cause.id);
      }
      for (const cause of this.closedByRule.get(link.rule) ?? []) {
        if (cause.firstTime > group.firstTime || cause.lastTime + link.withinMs < group.firstTime) continue;
        if (link.sameSubject && cause.subject !== subjectKey(subject)) continue;
        found.push(cause.id);
      }
    }
    const causes = [...new Set(found)].slice(0, MAX_CAUSES);
    for (const cause of causes) this.addConsequence(cause, group.id);
    return causes;
  }

  /** An incident was reported: remember it if it can be a cause; its consequences are final. */
  closed(rule: number, incident: Incident, firstTime: number, lastTime: number): void {
    this.consequences.delete(incident.id);
    if (!this.isCause[rule]) return;
    const list = this.closedByRule.get(rule) ?? [];
    list.push({ id: incident.id, firstTime, lastTime, subject: subjectKey(incident.subject?.name ?? null) });
    if (list.length > CLOSED_PER_RULE) list.shift();
    this.closedByRule.set(rule, list);
  }

  /** A group that was not an incident: nothing can name it. */
  forget(id: string): void {
    this.consequences.delete(id);
  }

  /** The consequences known for a cause now reported (and forgets them). */
  consequencesOf(id: string): string[] {
    const list = this.consequences.get(id) ?? [];
    return list.slice();
  }

  /** The consequences known so far, for a record of a cause still open. */
  peekConsequences(id: string): string[] {
    return (this.consequences.get(id) ?? []).slice();
  }

  state(): CausalityState {
    return { closed: [...this.closedByRule].map(([rule, list]) => [rule, list.map((e) => ({ ...e }))]), consequences: [...this.consequences].map(([id, list]) => [id, list.slice()]) };
  }

  restoreState(state: CausalityState): void {
    this.closedByRule.clear();
    for (const [rule, list] of state.closed) if (rule >= 0 && rule < this.rules.length) this.closedByRule.set(rule, list.map((e) => ({ ...e })));
    this.consequences.clear();
    for (const [id, list] of state.consequences) this.consequences.set(id, list.slice());
  }

  private addConsequence(cause: string, consequence: string): void {
    let list = this.consequences.get(cause);
    if (list === undefined) {
      if (this.consequences.size >= MAX_TRACKED_CAUSES) this.consequences.delete(this.consequences.keys().next().value as string);
      list = [];
      this.consequences.set(cause, list);
    }
    if (list.length < MAX_CONSEQUENCES && !list.includes(consequence)) list.push(consequence);
  }
}
