import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Analyzer } from '../../src/analyzer';
import { isDockerPushIncident } from '../../src/rules/builtin/docker-manifest-missing-layers';
import type { DockerPushIncident } from '../../src/index';
import { analyze, digest, infoLine, missingLayerLine, rejectionLine, SAMPLES } from '../support/helpers';

const pushes = (text: string, options = {}): DockerPushIncident[] => analyze(text, options).filter(isDockerPushIncident);
const ORIENT = 'org.sonatype.nexus.repository.docker.internal.orient.V2ManifestUtilImpl';

describe('docker-manifest-missing-layers on the seed excerpt', () => {
  const seed = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'));
  const [incident] = pushes(seed.toString());

  it('makes exactly one incident with every field the issue names', () => {
    expect(pushes(seed.toString())).toHaveLength(1);
    expect(incident).toMatchObject({
      rule: 'docker-manifest-missing-layers',
      severity: 'error',
      firstSeen: '2025-09-10T01:36:22.857Z',
      lastSeen: '2025-09-10T01:36:22.871Z',
      closeReason: 'matched',
      node: null,
      thread: 'qtp226372090-117',
      user: 'llm',
      repository: 'ctbots-docker',
      image: 'ctbots/base/llamafactory',
      reference: 'pytorch2.7.1-cu12.8-flashattn2.7.4',
      request: {
        method: 'PUT',
        path: '/v2/ctbots/base/llamafactory/manifests/pytorch2.7.1-cu12.8-flashattn2.7.4',
        status: 400,
        error: 'org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest',
      },
      evidenceOmitted: 0,
    });
    expect(incident?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(incident?.summary).toMatch(/ctbots\/base\/llamafactory:pytorch2\.7\.1-cu12\.8-flashattn2\.7\.4 to ctbots-docker by llm was rejected/);
  });

  it('lists the five missing layers in first-seen order', () => {
    expect(incident?.missingLayers).toEqual([
      'sha256:6414378b647780fee8fd903ddb9541d134a1947ce092d08bdeb23a54cb3684ac',
      'sha256:ad69d38804778a7dd78e609a0b3cbeb96542df5c37738a8c398ec31498a1490b',
      'sha256:2d01ee89ef0b66169d84c496b3175d51ff2a47b2e211d7e4f4fe69868681cd31',
      'sha256:7d21de8cade150523dfe4c80e31ded729bb70dce5336648c5d0ef4a618ef9e3c',
      'sha256:4b650590013c9e92d469a7b5514dbe45cd755b8d75f0d6ae09e2a3e089b0c82c',
    ]);
  });

  it('quotes each log line used, hard wraps repaired, with source and line', () => {
    expect(incident?.evidence.map((e) => [e.source, e.line])).toEqual([
      ['-', 1], ['-', 3], ['-', 5], ['-', 7], ['-', 9], ['-', 10],
    ]);
    expect(incident?.evidence[0]?.text.endsWith("name='ctbots-docker'}")).toBe(true);
    expect(incident?.evidence[5]?.text).toContain('Error: PUT /v2/ctbots/base/llamafactory/manifests/');
  });

  it('explains the cause and the fix from the failure story', () => {
    expect(incident?.diagnosis.cause).toBe('layer-check-answered-by-other-repository');
    expect(incident?.diagnosis.explanation).toMatch(/group repository behind a reverse proxy/);
    expect(incident?.diagnosis.remediation.join(' ')).toMatch(/separate blob stores/);
    expect(incident?.diagnosis.references.length).toBeGreaterThan(0);
  });

  it('gives the same id on every run', () => {
    expect(pushes(seed.toString())[0]?.id).toBe(incident?.id);
  });
});

describe('docker-manifest-missing-layers grouping', () => {
  it('reads the OrientDB logger of older versions too', () => {
    const text = [missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'a/b', 'v1', { logger: ORIENT }), rejectionLine('2025-01-01 10:00:00,010+0000', 'a/b', 'v1')].join('\n');
    expect(pushes(text).map((i) => [i.missingLayers.length, i.closeReason])).toEqual([[1, 'matched']]);
  });

  it('keeps interleaved threads apart', () => {
    const t1 = { thread: 'qtp9-1' };
    const t2 = { thread: 'qtp9-2' };
    const text = [
      missingLayerLine('2025-01-01 10:00:00,000+0000', 'a1', 'team/a', '1', t1),
      missingLayerLine('2025-01-01 10:00:00,001+0000', 'b1', 'team/b', '2', t2),
      missingLayerLine('2025-01-01 10:00:00,002+0000', 'a2', 'team/a', '1', t1),
      rejectionLine('2025-01-01 10:00:00,003+0000', 'team/b', '2', t2),
      rejectionLine('2025-01-01 10:00:00,004+0000', 'team/a', '1', t1),
    ].join('\n');
    expect(pushes(text).map((i) => [i.thread, i.image, i.missingLayers])).toEqual([
      ['qtp9-2', 'team/b', [digest('b1')]],
      ['qtp9-1', 'team/a', [digest('a1'), digest('a2')]],
    ]);
  });

  it('keeps the same thread name on two HA nodes apart', () => {
    const text = [
      missingLayerLine('2025-01-01 10:00:00,000+0000', 'x', 'img', '1', { node: 'node-a' }),
      missingLayerLine('2025-01-01 10:00:00,001+0000', 'y', 'img', '1', { node: 'node-b' }),
      rejectionLine('2025-01-01 10:00:00,002+0000', 'img', '1', { node: 'node-a' }),
    ].join('\n');
    expect(pushes(text).map((i) => [i.node, i.missingLayers, i.closeReason])).toEqual([
      ['node-a', [digest('x')], 'matched'],
      ['node-b', [digest('y')], 'end-of-input'],
    ]);
  });

  it('lists a layer logged twice once', () => {
    const text = [
      missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1'),
      missingLayerLine('2025-01-01 10:00:00,001+0000', 'l2', 'img', '1'),
      missingLayerLine('2025-01-01 10:00:00,002+0000', 'l1', 'img', '1'),
      rejectionLine('2025-01-01 10:00:00,003+0000', 'img', '1'),
    ].join('\n');
    const [incident] = pushes(text);
    expect(incident?.missingLayers).toEqual([digest('l1'), digest('l2')]);
    expect(incident?.evidence).toHaveLength(4);
  });

  it('a pooled thread that moves to a new image/tag ends the open group', () => {
    const text = [
      missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', 'old'),
      missingLayerLine('2025-01-01 10:00:01,000+0000', 'l2', 'img', 'new'),
      rejectionLine('2025-01-01 10:00:01,005+0000', 'img', 'new'),
    ].join('\n');
    expect(pushes(text).map((i) => [i.reference, i.missingLayers.length, i.closeReason, i.request === null])).toEqual([
      ['old', 1, 'superseded', true],
      ['new', 1, 'matched', false],
    ]);
  });

  it('a 400 for another image on the thread ends the open group and stands alone', () => {
    const text = [missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1'), rejectionLine('2025-01-01 10:00:00,005+0000', 'other', '9')].join('\n');
    expect(pushes(text).map((i) => [i.image, i.missingLayers.length, i.closeReason])).toEqual([
      ['img', 1, 'superseded'],
      ['other', 0, 'matched'],
    ]);
  });

  it('missing layers whose 400 never comes become an incident with request null: at end of input', () => {
    const [incident] = pushes(missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1'));
    expect(incident).toMatchObject({ request: null, closeReason: 'end-of-input', missingLayers: [digest('l1')] });
    expect(incident?.summary).toMatch(/no rejection was logged before the input ended/);
  });

  it('... and when the window passes in log time', () => {
    const text = [
      missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1'),
      missingLayerLine('2025-01-01 10:00:30,000+0000', 'l9', 'later', '1', { thread: 'other' }),
    ].join('\n');
    expect(pushes(text).map((i) => [i.image, i.closeReason])).toEqual([
      ['img', 'window'],
      ['later', 'end-of-input'],
    ]);
  });

  it('a 400 Invalid Manifest with no missing layers is an incident with missingLayers []', () => {
    const [incident] = pushes(rejectionLine('2025-01-01 10:00:00,000+0000', 'platform/base', '2026.11', { user: 'release-bot' }));
    expect(incident).toMatchObject({ missingLayers: [], image: 'platform/base', reference: '2026.11', repository: null, user: 'release-bot', closeReason: 'matched' });
    expect(incident?.diagnosis.cause).toBe('manifest-list-refers-to-missing-content');
    expect(incident?.diagnosis.remediation.join(' ')).toContain('docker manifest rm platform/base:2026.11');
  });

  it('takes the repository from a /repository/<name>/v2 path when that is all there is', () => {
    const line = rejectionLine('2025-01-01 10:00:00,000+0000', 'img', '1').replace('PUT /v2/', 'PUT /repository/docker-hosted/v2/');
    expect(pushes(line)[0]?.repository).toBe('docker-hosted');
  });

  it('a push by digest (tag printed as null) takes its reference from the PUT path', () => {
    const ref = digest('manifest');
    const text = [missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'staging-validation', 'null'), rejectionLine('2025-01-01 10:00:00,004+0000', 'staging-validation', ref)].join('\n');
    const [incident] = pushes(text);
    expect([incident?.image, incident?.reference, incident?.closeReason]).toEqual(['staging-validation', ref, 'matched']);
    expect(incident?.summary).toContain(`staging-validation@${ref}`);
  });

  it('a push by digest whose PUT was not seen has reference null', () => {
    expect(pushes(missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', 'null'))[0]?.reference).toBeNull();
  });

  it('the window is configurable', () => {
    const text = [missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1'), rejectionLine('2025-01-01 10:00:15,000+0000', 'img', '1')].join('\n');
    expect(pushes(text).map((i) => i.closeReason)).toEqual(['window', 'matched']);
    expect(pushes(text, { windowMs: 20_000 }).map((i) => i.closeReason)).toEqual(['matched']);
  });

  it('ignores other V2Handlers errors and other statuses', () => {
    const text = [
      rejectionLine('2025-01-01 10:00:00,000+0000', 'img', '1').replace(': 400 - ', ': 404 - '),
      rejectionLine('2025-01-01 10:00:00,000+0000', 'img', '1').replace('PUT', 'GET'),
      infoLine('2025-01-01 10:00:00,000+0000', 'Invalid Manifest mentioned in passing'),
    ].join('\n');
    expect(pushes(text)).toEqual([]);
  });

  it('caps evidence per incident, keeping the closing line, and counts what it left out', () => {
    const lines = Array.from({ length: 50 }, (_, i) => missingLayerLine(`2025-01-01 10:00:00,${String(i).padStart(3, '0')}+0000`, `l${i}`, 'img', '1'));
    lines.push(rejectionLine('2025-01-01 10:00:00,100+0000', 'img', '1'));
    const [incident] = pushes(lines.join('\n'));
    expect(incident?.missingLayers).toHaveLength(50);
    expect(incident?.evidence).toHaveLength(32);
    expect(incident?.evidence[31]?.text).toContain('Invalid Manifest');
    expect(incident?.evidenceOmitted).toBe(19);
  });

  it('a push that spans a log rotation (two sources) is one incident', () => {
    const analyzer = new Analyzer();
    const out = [
      ...analyzer.beginSource('nexus-2025-01-01.log.gz'),
      ...analyzer.write(`${missingLayerLine('2025-01-01 23:59:59,990+0000', 'l1', 'img', '1')}\n`),
      ...analyzer.beginSource('nexus.log'),
      ...analyzer.write(`${rejectionLine('2025-01-02 00:00:00,004+0000', 'img', '1')}\n`),
      ...analyzer.end(),
    ].filter(isDockerPushIncident);
    expect(out.map((i) => [i.closeReason, i.evidence.map((e) => e.source)])).toEqual([['matched', ['nexus-2025-01-01.log.gz', 'nexus.log']]]);
  });

  it('fingerprints repeats of the same failure alike and tells different failures apart', () => {
    const attempt = (hour: string, thread: string): string =>
      [missingLayerLine(`2025-01-01 ${hour}:00:00,000+0000`, 'l1', 'img', '1', { thread }), rejectionLine(`2025-01-01 ${hour}:00:00,005+0000`, 'img', '1', { thread })].join('\n');
    const [a, b] = pushes([attempt('10', 't1'), attempt('11', 't2')].join('\n'));
    expect(a?.fingerprint).toBe(b?.fingerprint);
    expect(a?.id).not.toBe(b?.id);
    const [c] = pushes(attempt('10', 't1').replace(/\/1 in repository/, '/2 in repository'));
    expect(c?.fingerprint).not.toBe(a?.fingerprint);
  });
});
