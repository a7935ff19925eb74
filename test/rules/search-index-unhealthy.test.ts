/** search-index-unhealthy: Elasticsearch health intervals away from GREEN, and index rebuilds that fail. */
import { parseHealthChange, searchIndexUnhealthy } from '../../src/rules/builtin/search-index-unhealthy';
import { diskFull } from '../../src/rules/builtin/disk-full';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const ALLOCATION = 'org.elasticsearch.cluster.routing.allocation';
const SEARCH_FACET = 'org.sonatype.nexus.repository.content.search.SearchFacetImpl';
const ES_THREAD = 'elasticsearch[594672F0-D8ABD4EC][clusterService#updateTask][T#1]';
const run = (text: string | string[]) => incidents(searchIndexUnhealthy, text);
const change = (ms: number, from: string, to: string, reason = 'shards failed [[c7941f67][0]] ...'): string =>
  line(ms, 'INFO', ALLOCATION, `[594672F0-D8ABD4EC] Cluster health status changed from [${from}] to [${to}] (reason: [${reason}]).`, { thread: ES_THREAD });

describe('search-index-unhealthy', () => {
  it('parses a health change', () => {
    expect(parseHealthChange('[594672F0] Cluster health status changed from [GREEN] to [RED] (reason: [shards failed [[idx][0]] ...]).')).toEqual({
      esNode: '594672F0',
      from: 'GREEN',
      to: 'RED',
      reason: 'shards failed [[idx][0]] ...',
    });
  });

  it('RED, then back to GREEN after a while: one warning with how long it lasted', () => {
    const [incident, ...rest] = run([change(0, 'GREEN', 'RED'), change(10 * MINUTE, 'RED', 'GREEN', 'shards started [[c7941f67][0]] ...')]);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'warning', closeReason: 'matched', subject: { type: 'search-index', name: 'nexus' }, facts: { worst: 'RED', 'back to GREEN': true, duration: '10 min', reason: 'shards failed [[c7941f67][0]] ...' }, diagnosis: { cause: 'search-shards-unassigned' } });
    expect(incident?.summary).toBe('The search index (embedded Elasticsearch 594672F0-D8ABD4EC) was RED for 10 min before it came back to GREEN (2 health changes).');
    expect(incident?.diagnosis.remediation.join(' ')).toContain('Repair - Rebuild repository search');
  });

  it('RED that persists (never back to GREEN, or for 30 minutes and more) is an error', () => {
    expect(run([change(0, 'GREEN', 'RED'), line(5 * MINUTE, 'INFO', 'org.x.Y', 'x')])[0]).toMatchObject({ severity: 'error', closeReason: 'end-of-input' });
    expect(run([change(0, 'GREEN', 'RED'), change(45 * MINUTE, 'RED', 'GREEN')])[0]?.severity).toBe('error');
    expect(run([change(0, 'GREEN', 'YELLOW'), change(45 * MINUTE, 'YELLOW', 'GREEN')])[0]).toMatchObject({ severity: 'warning', diagnosis: { cause: 'search-replicas-unassigned' } });
  });

  it('transient states are not incidents: startup RED -> GREEN, an index created and allocated within two minutes', () => {
    expect(run([change(0, 'RED', 'GREEN', 'shards started [[a][0]] ...')])).toEqual([]);
    expect(run([change(0, 'GREEN', 'RED', 'index [c7941f67] created'), change(800, 'RED', 'GREEN')])).toEqual([]);
    expect(run([change(0, 'GREEN', 'RED', 'index [c7941f67] created')])).toEqual([]);
  });

  it('many intervals: each its own incident, the same fingerprint', () => {
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(change(i * HOUR, 'GREEN', 'RED'), change(i * HOUR + 5 * MINUTE, 'RED', 'GREEN'));
    const found = run(lines);
    expect(found).toHaveLength(500);
    expect(new Set(found.map((i) => i.fingerprint)).size).toBe(1);
    expect(found[499]?.occurrences).toBe(500);
  });

  it('a rebuild that fails: per repository, the exception decides the cause', () => {
    const fail = (ms: number, repo: string, exception: string): string[] => [line(ms, 'ERROR', SEARCH_FACET, `Unable to rebuild search index for repository ${repo}`, { thread: 'quartz-11-thread-1' }), exception, '\tat x.y(Z.java:1)'];
    const lines = [...fail(0, 'apk-a', 'org.sonatype.nexus.repository.MissingFacetException: No facet of type ContentFacet attached to repository apk-a'), ...fail(SECOND, 'raw-b', 'org.sonatype.nexus.datastore.api.DataAccessException: boom'), ...fail(2 * SECOND, 'raw-b', 'org.sonatype.nexus.datastore.api.DataAccessException: boom')];
    const found = run(lines);
    expect(found.map((i) => [i.subject?.name, i.diagnosis.cause, i.count])).toEqual([
      ['apk-a', 'format-plugin-incompatible', 1],
      ['raw-b', 'search-rebuild-failed', 2],
    ]);
  });

  it('names a full disk before it as its cause', () => {
    const lines = [
      line(0, 'WARN', 'org.elasticsearch.cluster.routing.allocation.decider', 'high disk watermark [90%] exceeded on [a][b][/nexus-data/elasticsearch/nexus] free: 1gb[5%], shards will be relocated away from this node'),
      change(MINUTE, 'GREEN', 'RED'),
      change(20 * MINUTE, 'RED', 'GREEN'),
    ];
    const disk = incidents([searchIndexUnhealthy, diskFull], lines, 'disk-full');
    expect(incidents([searchIndexUnhealthy, diskFull], lines)[0]?.causes).toEqual([disk[0]?.id]);
  });

  it('near misses: other loggers, health lines that do not parse', () => {
    expect(run([line(0, 'INFO', 'org.x.Other', 'Cluster health status changed from [GREEN] to [RED] (reason: x).'), line(1, 'INFO', ALLOCATION, 'Cluster health status changed from [GREEN] to [PURPLE]'), line(2, 'INFO', SEARCH_FACET, 'Rebuilding index of repository apk-a')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([searchIndexUnhealthy.id], line(0, 'INFO', ALLOCATION, `[x] Cluster health status changed from [${adversarial('[RED] to [(reason: [')}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('real excerpt nexus-repository-apk#51: the rebuild of an apk repository fails on a missing ContentFacet (class other:search-index-rebuild-failed)', () => {
    const name = 'apk-51-compose-prefix-rebuild-index-missing-facet.log';
    expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toEqual([['other:search-index-rebuild-failed', 'apk-alpine-3.16-community']]);
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'warning', subject: { type: 'search-index', name: 'apk-alpine-3.16-community' }, diagnosis: { cause: 'format-plugin-incompatible', confidence: 'high' } });
  });
});
