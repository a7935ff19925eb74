import type { LogEvent } from '../../src/events/log-event';
import { INCIDENT_SCHEMA_VERSION, type CloseReason, type Incident } from '../../src/incidents/incident';
import { CorrelationEngine } from '../../src/rules/engine';
import type { CorrelationRule } from '../../src/rules/rule';

/** A toy pair rule: `start <key>` opens, `more <key>` joins, `end <key>` completes, `other <key>` supersedes. */
interface Group {
  key: string;
  words: string[];
}
type ToyIncident = Incident & { key: string; words: string[] };

function toyRule(windowMs: number): CorrelationRule<{ word: string; key: string }, Group> {
  return {
    id: 'toy',
    title: 'toy',
    severity: 'info',
    prefilter: ['start', 'more', 'end', 'other'],
    windowMs,
    match: (event) => {
      const [word, key] = event.message.split(' ');
      return word === undefined || key === undefined ? undefined : { word, key };
    },
    keyOf: (signal) => signal.key,
    open: (signal) => ({ key: signal.key, words: [] }),
    continues: (_group, signal) => signal.word !== 'start' && signal.word !== 'other',
    add: (group, signal) => {
      group.words.push(signal.word);
      return signal.word === 'end';
    },
    toIncident: (group, reason: CloseReason | null, span): ToyIncident => ({
      schemaVersion: INCIDENT_SCHEMA_VERSION,
      id: `${group.key}@${span.firstTime}`,
      fingerprint: group.key,
      rule: 'toy',
      severity: 'info',
      lifecycle: 'closed',
      revision: 0,
      occurrences: 1,
      summary: group.words.join(','),
      firstSeen: new Date(span.firstTime).toISOString(),
      lastSeen: new Date(span.lastTime).toISOString(),
      closeReason: reason,
      node: null,
      thread: null,
      user: null,
      evidence: [],
      evidenceOmitted: 0,
      diagnosis: { cause: 'toy', explanation: '', confidence: 'low', evidence: [], remediation: [], references: [] },
      key: group.key,
      words: group.words.slice(),
    }),
  };
}

function event(time: number, message: string): LogEvent {
  return {
    source: '-', line: 1, offset: 0, time, timestampText: '', level: 'INFO', thread: 't', node: null, user: null,
    logger: 'x', message, text: `${time} ${message}`, continuation: [], continuationDropped: 0, truncated: false,
  };
}

function run(steps: Array<[number, string] | ['tick', number]>, windowMs = 1000, maxOpenGroups = 100) {
  const out: ToyIncident[] = [];
  const engine = new CorrelationEngine([toyRule(windowMs)], { maxOpenGroups }, (i) => out.push(i as ToyIncident));
  for (const step of steps) {
    if (step[0] === 'tick') engine.advance(step[1]);
    else engine.process(event(step[0], step[1]));
  }
  engine.closeAll('end-of-input');
  return { out: out.map((i) => [i.key, i.summary, i.closeReason]), engine };
}

describe('CorrelationEngine', () => {
  it('closes a group on its completing event', () => {
    expect(run([[0, 'start a'], [10, 'more a'], [20, 'end a']]).out).toEqual([['a', 'start,more,end', 'matched']]);
  });

  it('windows run on event time: a completing event past the window starts over', () => {
    expect(run([[0, 'start a'], [1001, 'end a']]).out).toEqual([
      ['a', 'start', 'window'],
      ['a', 'end', 'matched'],
    ]);
    expect(run([[0, 'start a'], [1000, 'end a']]).out).toEqual([['a', 'start,end', 'matched']]);
  });

  it('closes groups whose window passed when event time moves on, in any key', () => {
    const { out } = run([[0, 'start a'], [5000, 'start b'], [5001, 'end b']]);
    expect(out).toEqual([
      ['a', 'start', 'window'],
      ['b', 'start,end', 'matched'],
    ]);
  });

  it('ticks move event time too', () => {
    const out: Incident[] = [];
    const engine = new CorrelationEngine([toyRule(1000)], { maxOpenGroups: 10 }, (i) => out.push(i));
    engine.process(event(0, 'start a'));
    engine.advance(999);
    expect(out).toHaveLength(0);
    engine.advance(1001);
    expect(out.map((i) => i.closeReason)).toEqual(['window']);
  });

  it('a new request on the same key supersedes the open group', () => {
    expect(run([[0, 'start a'], [1, 'other a'], [2, 'end a']]).out).toEqual([
      ['a', 'start', 'superseded'],
      ['a', 'other,end', 'matched'],
    ]);
  });

  it('keeps separate keys apart', () => {
    expect(run([[0, 'start a'], [1, 'start b'], [2, 'end a'], [3, 'end b']]).out).toEqual([
      ['a', 'start,end', 'matched'],
      ['b', 'start,end', 'matched'],
    ]);
  });

  it('evicts (emits) the least recently touched group past the cap, never drops one', () => {
    const { out, engine } = run([[0, 'start a'], [1, 'start b'], [2, 'more a'], [3, 'start c'], [4, 'end a']], 1000, 2);
    expect(out).toEqual([
      ['b', 'start', 'evicted'],
      ['a', 'start,more,end', 'matched'],
      ['c', 'start', 'end-of-input'],
    ]);
    expect(engine.counters.evicted).toBe(1);
  });

  it('emits one incident for every group it opened (many keys, small cap)', () => {
    const steps: Array<[number, string]> = [];
    for (let i = 0; i < 500; i++) steps.push([i, `start k${i}`]);
    const { out, engine } = run(steps, 10_000, 50);
    expect(out).toHaveLength(500);
    expect(new Set(out.map((o) => o[0])).size).toBe(500);
    expect(engine.openGroups).toBe(0);
  });

  it('closes everything left at end of input, oldest first', () => {
    expect(run([[5, 'start b'], [0, 'start a']]).out).toEqual([
      ['a', 'start', 'end-of-input'],
      ['b', 'start', 'end-of-input'],
    ]);
  });

  it('counts events older than the watermark as late', () => {
    const { engine } = run([[100, 'start a'], [50, 'more a']]);
    expect(engine.counters.lateEvents).toBe(1);
  });

  it('refuses a rule without prefilter literals', () => {
    expect(() => new CorrelationEngine([{ ...toyRule(1), prefilter: [] }], { maxOpenGroups: 1 }, () => undefined)).toThrow(/prefilter/);
  });
});

describe('CorrelationEngine lifecycle and recurrence', () => {
  function lifecycleRun(steps: Array<[number, string]>, lifecycle: boolean) {
    const out: ToyIncident[] = [];
    const engine = new CorrelationEngine([toyRule(1000)], { maxOpenGroups: 100, lifecycle }, (i) => out.push(i as ToyIncident));
    for (const [time, message] of steps) engine.process(event(time, message));
    engine.closeAll('end-of-input');
    return out.map((i) => [i.key, i.lifecycle, i.revision, i.closeReason, i.summary, i.occurrences]);
  }

  it('with lifecycle: opened, updated at each line, closed once with its reason; revisions count up', () => {
    expect(lifecycleRun([[0, 'start a'], [1, 'more a'], [2, 'end a']], true)).toEqual([
      ['a', 'opened', 1, null, 'start', 1],
      ['a', 'updated', 2, null, 'start,more', 1],
      ['a', 'closed', 3, 'matched', 'start,more,end', 1],
    ]);
  });

  it('a close without a completing line counts one more revision; one that completes at once is closed at 1', () => {
    expect(lifecycleRun([[0, 'start a'], [5000, 'end b']], true)).toEqual([
      ['a', 'opened', 1, null, 'start', 1],
      ['a', 'closed', 2, 'window', 'start', 1],
      ['b', 'closed', 1, 'matched', 'end', 1],
    ]);
  });

  it('without lifecycle only closed incidents come out, with the same revisions', () => {
    expect(lifecycleRun([[0, 'start a'], [1, 'more a'], [2, 'end a'], [3, 'start c']], false)).toEqual([
      ['a', 'closed', 3, 'matched', 'start,more,end', 1],
      ['c', 'closed', 2, 'end-of-input', 'start', 1],
    ]);
  });

  it('the same failure repeating is counted: occurrences 1, 2, 3 under one fingerprint', () => {
    const steps: Array<[number, string]> = [];
    for (let i = 0; i < 3; i++) steps.push([i * 10_000, 'start a'], [i * 10_000 + 1, 'end a']);
    expect(lifecycleRun(steps, false).map((row) => row[5])).toEqual([1, 2, 3]);
  });
});
