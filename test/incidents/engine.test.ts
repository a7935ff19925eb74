/**
 * The correlation engine with toy rules: windows in event time, completion, supersession, the
 * caps, and the envelope it owns for every rule (ids, fingerprints, counts, evidence, lifecycle,
 * recurrence, run aggregation, causes).
 */
import type { AnyEvent, NexusEvent } from '../../src/events/log-event';
import { CorrelationEngine, type EngineOptions } from '../../src/incidents/engine';
import type { Incident } from '../../src/incidents/incident';
import type { AnyRule, Rule } from '../../src/rules/rule';

interface Group {
  key: string;
  words: string[];
}

/** `start <key>` opens, `more <key>` joins, `end <key>` completes, `other <key>` supersedes. */
function toyRule(windowMs: number, extra: Partial<Rule<{ word: string; key: string; value?: string }, Group>> = {}): Rule<{ word: string; key: string; value?: string }, Group> {
  return {
    id: 'toy',
    title: 'toy',
    severity: 'info',
    category: 'custom',
    reads: [{ levels: ['INFO'], literals: ['x'] }],
    windowMs,
    match: (event) => {
      if (event.kind !== 'nexus') return undefined;
      const [word, key, value] = event.message.split(' ');
      return word === undefined || key === undefined ? undefined : { word, key, ...(value === undefined ? {} : { value }) };
    },
    key: (signal) => signal.key,
    open: (signal) => ({ key: signal.key, words: [] }),
    continues: (_group, signal) => signal.word !== 'start' && signal.word !== 'other',
    distinct: (signal) => (signal.value === undefined ? undefined : { value: signal.value }),
    add: (group, signal) => {
      group.words.push(signal.word);
      return signal.word === 'end';
    },
    describe: (group) => ({
      subject: { type: 'path', name: group.key },
      fingerprint: [group.key],
      summary: group.words.join(','),
      diagnosis: { cause: 'toy', explanation: '', confidence: 'low', remediation: ['fix it'] },
    }),
    ...extra,
  };
}

function event(time: number, message: string, line = 1): NexusEvent {
  return {
    kind: 'nexus', source: '-', line, offset: line * 100, time, timestampText: '', level: 'INFO', thread: 't', node: null, user: null,
    logger: 'x', message, text: `${time} ${message}`, continuation: [], continuationDropped: 0, truncated: false,
  };
}

type Step = [number, string] | ['tick', number];

function run(steps: Step[], rules: AnyRule[] = [toyRule(1000)], options: Partial<EngineOptions> = {}) {
  const out: Incident[] = [];
  const engine = new CorrelationEngine(rules, { maxOpenGroups: 100, ...options }, (i) => out.push(i));
  let line = 0;
  for (const step of steps) {
    if (step[0] === 'tick') engine.advance('nexus', step[1]);
    else {
      engine.advance('nexus', step[0]);
      engine.process(event(step[0], step[1], ++line) as AnyEvent, rules.map((_r, i) => i));
    }
  }
  engine.closeAll('end-of-input');
  return { out, rows: out.map((i) => [i.subject?.name, i.summary, i.closeReason]), engine };
}

describe('CorrelationEngine windows and closes', () => {
  it('closes a group on its completing event', () => {
    expect(run([[0, 'start a'], [10, 'more a'], [20, 'end a']]).rows).toEqual([['a', 'start,more,end', 'matched']]);
  });

  it('windows run on event time: a completing event past the window starts over', () => {
    expect(run([[0, 'start a'], [1001, 'end a']]).rows).toEqual([
      ['a', 'start', 'window'],
      ['a', 'end', 'matched'],
    ]);
    expect(run([[0, 'start a'], [1000, 'end a']]).rows).toEqual([['a', 'start,end', 'matched']]);
  });

  it('closes groups whose window passed when the clock moves on, in any key; ticks move it too', () => {
    expect(run([[0, 'start a'], [5000, 'start b'], [5001, 'end b']]).rows).toEqual([
      ['a', 'start', 'window'],
      ['b', 'start,end', 'matched'],
    ]);
    const { out } = run([[0, 'start a'], ['tick', 999]]);
    expect(out.map((i) => i.closeReason)).toEqual(['end-of-input']);
    expect(run([[0, 'start a'], ['tick', 1001]]).out.map((i) => i.closeReason)).toEqual(['window']);
  });

  it('a signal that cannot open a group is dropped when none of its key is open, and still ends one that is', () => {
    const endsOnly = toyRule(1000, { opens: (signal) => signal.word !== 'end' });
    const { rows, engine } = run([[0, 'end a'], [10, 'start b'], [20, 'end b'], [5000, 'end b']], [endsOnly]);
    expect(rows).toEqual([['b', 'start,end', 'matched']]);
    expect(engine.counters.discarded).toBe(0); // nothing was opened for the lone ends
  });

  it('a new request on the same key supersedes the open group; separate keys stay apart', () => {
    expect(run([[0, 'start a'], [1, 'other a'], [2, 'end a']]).rows).toEqual([
      ['a', 'start', 'superseded'],
      ['a', 'other,end', 'matched'],
    ]);
    expect(run([[0, 'start a'], [1, 'start b'], [2, 'end a'], [3, 'end b']]).rows).toEqual([
      ['a', 'start,end', 'matched'],
      ['b', 'start,end', 'matched'],
    ]);
  });

  it('a line far older than its open group does not split it (a stray line)', () => {
    expect(run([[100_000, 'start a'], [100_010, 'more a'], [5, 'more a'], [100_020, 'end a']]).rows).toEqual([
      ['a', 'more', 'window'],
      ['a', 'start,more,end', 'matched'],
    ]);
  });

  it('evicts (emits) the least recently touched group past the cap, never drops one', () => {
    const { rows, engine } = run([[0, 'start a'], [1, 'start b'], [2, 'more a'], [3, 'start c'], [4, 'end a']], [toyRule(1000)], { maxOpenGroups: 2 });
    expect(rows).toEqual([
      ['b', 'start', 'evicted'],
      ['a', 'start,more,end', 'matched'],
      ['c', 'start', 'end-of-input'],
    ]);
    expect(engine.counters.evicted).toBe(1);
  });

  it('emits one incident for every group it opened (many keys, small cap)', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 500; i++) steps.push([i, `start k${i}`]);
    const { out, engine } = run(steps, [toyRule(10_000)], { maxOpenGroups: 50 });
    expect(out).toHaveLength(500);
    expect(new Set(out.map((o) => o.subject?.name)).size).toBe(500);
    expect(engine.openGroups).toBe(0);
  });

  it('evicts by bytes too: memory follows the options, not the input', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 200; i++) steps.push([i, `start k${i} ${'v'.repeat(20_000)}`]);
    const { out, engine } = run(steps, [toyRule(10_000)], { maxOpenGroups: 10_000, maxOpenBytes: 1024 * 1024, maxEvidenceChars: 4096 });
    expect(out).toHaveLength(200);
    expect(engine.counters.evicted).toBeGreaterThan(100);
  });

  it('closes everything left at end of input, oldest first, and counts late events', () => {
    const { rows } = run([[5, 'start b'], [0, 'start a']]);
    expect(rows).toEqual([
      ['a', 'start', 'end-of-input'],
      ['b', 'start', 'end-of-input'],
    ]);
    expect(run([[100, 'start a'], [50, 'more a']]).engine.counters.lateEvents).toBe(1);
  });

  it('a bug in a rule surfaces naming the rule', () => {
    const broken = toyRule(1000, { describe: () => { throw new TypeError('oops'); } });
    expect(() => run([[0, 'end a']], [broken])).toThrow(/rule toy failed in describe: oops/);
  });
});

describe('CorrelationEngine envelope', () => {
  it('a storm is one incident: count, rate, first and last time, distinct values', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 1000; i++) steps.push([i * 600, `more a v${i % 37}`]);
    const { out } = run(steps, [toyRule(60_000)]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ count: 1000, firstSeen: new Date(0).toISOString(), lastSeen: new Date(999 * 600).toISOString(), ratePerMinute: 100.1 });
    expect(out[0]?.distinct.value?.total).toBe(37);
    expect(out[0]?.distinct.value?.values).toHaveLength(20);
  });

  it('one evidence policy: the first lines, the last line always, an omitted count; long lines cut with their length', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 100; i++) steps.push([i, `more a ${i === 99 ? 'L'.repeat(5000) : i}`]);
    const { out } = run(steps, [toyRule(60_000)], { maxEvidence: 8, maxEvidenceChars: 1000 });
    const evidence = out[0]?.evidence ?? [];
    expect(evidence.map((e) => e.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 100]);
    expect(out[0]?.evidenceOmitted).toBe(92);
    expect(evidence[7]?.text).toHaveLength(1000);
    expect(evidence[7]?.length).toBe(5000 + '99 more a '.length);
    expect(out[0]?.diagnosis.evidence).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('the id is fixed when the group opens: a late line does not change it', () => {
    const open: Incident[] = [];
    const engine = new CorrelationEngine([toyRule(1000)], { maxOpenGroups: 10, lifecycle: true }, (i) => open.push(i));
    engine.advance('nexus', 100);
    engine.process(event(100, 'start a', 1), [0]);
    engine.process(event(50, 'more a', 2), [0]);
    engine.closeAll('end-of-input');
    expect(new Set(open.map((i) => i.id)).size).toBe(1);
    expect(open.at(-1)?.firstSeen).toBe(new Date(50).toISOString());
  });

  it('fingerprints come from the rule\'s parts: the same failure again shares it, occurrences count up', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 3; i++) steps.push([i * 10_000, 'start a'], [i * 10_000 + 1, 'end a']);
    const { out } = run(steps);
    expect(new Set(out.map((i) => i.fingerprint)).size).toBe(1);
    expect(out.map((i) => i.occurrences)).toEqual([1, 2, 3]);
  });

  it('lifecycle: opened, updated at count doublings (throttled), closed once; revisions count lines', () => {
    const out: Incident[] = [];
    const engine = new CorrelationEngine([toyRule(1_000_000)], { maxOpenGroups: 10, lifecycle: true, updateIntervalMs: 0 }, (i) => out.push(i));
    for (let i = 1; i <= 100; i++) {
      engine.advance('nexus', i);
      engine.process(event(i, 'more a', i), [0]);
    }
    engine.closeAll('end-of-input');
    expect(out.map((i) => [i.lifecycle, i.count])).toEqual([
      ['opened', 1],
      ['updated', 2],
      ['updated', 4],
      ['updated', 8],
      ['updated', 16],
      ['updated', 32],
      ['updated', 64],
      ['closed', 100],
    ]);
    expect(out.at(-1)?.revision).toBe(101);
    expect(new Set(out.map((i) => i.id)).size).toBe(1);
  });

  it('lifecycle updates of one incident are at least updateIntervalMs of log time apart', () => {
    const out: Incident[] = [];
    const engine = new CorrelationEngine([toyRule(1_000_000)], { maxOpenGroups: 10, lifecycle: true, updateIntervalMs: 10_000 }, (i) => out.push(i));
    for (let i = 1; i <= 1000; i++) {
      engine.advance('nexus', i * 100);
      engine.process(event(i * 100, 'more a', i), [0]);
    }
    const updates = out.filter((i) => i.lifecycle === 'updated').map((i) => Date.parse(i.lastSeen ?? ''));
    for (let k = 1; k < updates.length; k++) expect((updates[k] as number) - (updates[k - 1] as number)).toBeGreaterThanOrEqual(10_000);
  });

  it('aggregating rules fold runs of the same failure into one incident with the run count', () => {
    const aggregating = toyRule(1000, { aggregate: { windowMs: 60_000 }, describe: (group, view) => ({ subject: { type: 'task', name: group.key }, fingerprint: [group.key], summary: `${view.runs} run(s) of ${group.words.join(',')}`, diagnosis: { cause: 'toy', explanation: '', confidence: 'low', remediation: [] } }) });
    const { out } = run([[0, 'start a'], [1, 'end a'], [10_000, 'start a'], [10_001, 'end a'], [200_000, 'start a'], [200_001, 'end a']], [aggregating]);
    expect(out.map((i) => [i.summary, i.count, i.closeReason])).toEqual([
      ['2 run(s) of start,end', 4, 'window'],
      ['1 run(s) of start,end', 2, 'end-of-input'],
    ]);
  });

  it('causes: an incident names the open or recent incidents of the rules it is a consequence of, and they name it', () => {
    const cause = toyRule(1_000_000, { id: 'cause', match: (e) => (e.kind === 'nexus' && e.message.startsWith('oom') ? { word: 'oom', key: 'jvm' } : undefined) });
    const consequence = toyRule(1000, { id: 'consequence', causedBy: [{ rule: 'cause', withinMs: 60_000 }], match: (e) => (e.kind === 'nexus' && e.message.startsWith('fail') ? { word: 'end', key: 'r' } : undefined) });
    const { out } = run([[0, 'oom now'], [10, 'fail now']], [cause, consequence]);
    const [failed, oom] = [out.find((i) => i.rule === 'consequence'), out.find((i) => i.rule === 'cause')];
    expect(failed?.causes).toEqual([oom?.id]);
    expect(oom?.consequences).toEqual([failed?.id]);
    const before = run([[0, 'fail first'], [10, 'oom later']], [cause, consequence]).out.find((i) => i.rule === 'consequence');
    expect(before?.causes).toEqual([]);
  });
});
