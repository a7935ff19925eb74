import { blobstoreQuotaExceeded } from '../../src/rules/builtin/blobstore-quota-exceeded';
import { filesWithout, realIncidents } from '../support/request-lines';
import { adversarial, HOUR, incidents, line, MINUTE } from '../support/rule-lines';

const CHECKER = 'org.sonatype.nexus.blobstore.quota.BlobStoreQuotaUsageChecker';
const FILE_STORE = 'org.sonatype.nexus.blobstore.file.FileBlobStore';
const ROUND_ROBIN = 'org.sonatype.nexus.blobstore.group.internal.RoundRobinFillPolicy';

const run = (text: string[]) => incidents(blobstoreQuotaExceeded, text);
const used = (ms: number, store: string, value: string, limit = '10.00 GB', logger = CHECKER) =>
  line(ms, 'WARN', logger, `Blob store ${store} is using ${value} space and has a limit of ${limit}`, { thread: 'periodic-1-thread-1' });
const remaining = (ms: number, store: string, value: string, limit = '5.00 GB') =>
  line(ms, 'WARN', CHECKER, `Blob store ${store} is limited to having ${limit} available space, and has ${value} space remaining`, { thread: 'periodic-1-thread-1' });

describe('blobstore-quota-exceeded: the texts it reads', () => {
  it('BS-7 Space Used: the blob store, its use and limit', () => {
    const [incident, ...rest] = run([used(0, 'default', '10.52 GB')]);
    expect(rest).toHaveLength(0);
    expect(incident).toMatchObject({ subject: { type: 'blobstore', name: 'default' }, severity: 'warning', count: 1 });
    expect(incident?.diagnosis.cause).toBe('soft-quota-space-used');
    expect(incident?.facts).toMatchObject({ 'blob store': 'default', 'quota type': 'Space Used', 'used / limit': '10.52 GB / 10.00 GB', warnings: 1 });
    expect(incident?.summary).toBe('Blob store default is over its soft quota: it uses 10.52 GB of its 10.00 GB limit; warned once.');
    expect(incident?.diagnosis.remediation[0]).toContain("'Admin - Compact blob store' for default");
    expect(incident?.diagnosis.remediation[1]).toContain('Blob Stores > default > Soft Quota');
  });

  it('BS-7 Space Remaining: the free space below the quota', () => {
    const [incident] = run([remaining(0, 'docker-store', '812.34 MB')]);
    expect(incident?.diagnosis.cause).toBe('soft-quota-space-remaining');
    expect(incident?.facts['free / quota']).toBe('812.34 MB / 5.00 GB');
    expect(incident?.summary).toContain('has 812.34 MB free where its quota asks for 5.00 GB');
    expect(incident?.diagnosis.remediation[0]).toContain('more space');
  });

  it('before 3.41 the blob store itself logs it (FileBlobStore)', () => {
    expect(run([used(0, 'npm', '2.00 GB', '1.00 GB', FILE_STORE)]).map((i) => i.subject?.name)).toEqual(['npm']);
  });

  it('BS-8 a group skipping the member joins the same incident; alone it is an incident too', () => {
    const skip = line(MINUTE, 'INFO', ROUND_ROBIN, 'Skipping blobStore member-1 due to soft-quota violation', { thread: 'qtp1-9' });
    const [both] = run([used(0, 'member-1', '10.52 GB'), skip]);
    expect(both).toMatchObject({ count: 2, facts: { warnings: 1, 'skipped by the group fill policy': 1 } });
    expect(both?.summary).toContain('its group blob store skipped it for 1 new blob');
    const [alone] = run([line(0, 'INFO', ROUND_ROBIN, 'Skipping blobStore member-2 due to soft-quota violation: Blob store member-2 is using 3 GB space and has a limit of 2 GB')]);
    expect(alone?.subject?.name).toBe('member-2');
    expect(alone?.diagnosis.cause).toBe('soft-quota-space-used');
    const [bare] = run([line(0, 'INFO', ROUND_ROBIN, 'Skipping blobStore member-3 due to soft-quota violation')]);
    expect(bare?.diagnosis.cause).toBe('group-member-over-quota');
  });
});

describe('blobstore-quota-exceeded: storms and windows', () => {
  it('a warning every minute for 1,000 minutes is one incident per store, with the growth', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(used(i * MINUTE, 'default', `${(10 + i / 100).toFixed(2)} GB`));
    const found = run(lines);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 1000, facts: { warnings: 1000, 'at first': '10.00 GB', 'used / limit': '19.99 GB / 10.00 GB' } });
    expect(found[0]?.summary).toContain('(10.00 GB at first, 19.99 GB at last); warned 1,000 times in 16 h 39 min (1.0/min)');
  });

  it('each store is its own incident', () => {
    expect(run([used(0, 'a', '1 GB'), used(1000, 'b', '1 GB'), used(MINUTE, 'a', '1 GB')]).map((i) => [i.subject?.name, i.count]).sort()).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('two hours without a warning end it: the next one is a second incident', () => {
    const found = run([used(0, 'default', '11 GB'), used(MINUTE, 'default', '11 GB'), used(MINUTE + 2 * HOUR + 1000, 'default', '12 GB')]);
    expect(found.map((i) => [i.count, i.closeReason])).toEqual([
      [2, 'window'],
      [1, 'end-of-input'],
    ]);
  });
});

describe('blobstore-quota-exceeded: near misses', () => {
  it('other texts, loggers and levels are nothing', () => {
    expect(run([line(0, 'WARN', CHECKER, 'Blob store default started')])).toEqual([]);
    expect(run([line(0, 'WARN', CHECKER, 'Quota check exception for default')])).toEqual([]);
    expect(run([line(0, 'INFO', CHECKER, 'Blob store default is using 10 GB space and has a limit of 5 GB')])).toEqual([]);
    expect(run([line(0, 'WARN', 'org.example.Other', 'Blob store default is using 10 GB space and has a limit of 5 GB')])).toEqual([]);
    expect(run([line(0, 'INFO', ROUND_ROBIN, 'Skipping blobStore member-1 for another reason')])).toEqual([]);
  });

  it('reads a 300 KB adversarial message without trouble', () => {
    const long = `Blob store ${adversarial(' is using x space and has a limit', 300_000)}`;
    const long2 = `Blob store ${adversarial(' is limited to having  available space, and has ', 300_000)}`;
    expect(run([line(0, 'WARN', CHECKER, long), line(1000, 'WARN', CHECKER, long2)]).length).toBeLessThanOrEqual(2);
  });
});

describe('blobstore-quota-exceeded on the real excerpts', () => {
  it('no excerpt has this class (none was posted): it stays silent on all of them', () => {
    for (const file of filesWithout('blobstore-quota-exceeded')) expect([file, realIncidents(blobstoreQuotaExceeded, file).length]).toEqual([file, 0]);
  });
});
