/** What the CLI tests expect of samples/: the stories of samples/README.md, counted. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Incident } from '../../src/incidents/incident';
import { SAMPLES } from '../support/helpers';

/** What samples/ holds, by rule (samples/README.md tells each story). */
export const SAMPLE_INCIDENTS: Record<string, number> = {
  // 11 pushes of the push story (6 in nexus.log, 2 in the .gz, one each in the console, HA and seed logs) and team-c/api of the broken server.
  'docker-manifest-missing-layers': 12,
  // Push story: a crash (the run ending before nexus.log's 07:58 start) and a clean stop; broken server: a crash at 13:44 and the run after it.
  'server-run': 4,
  // The docker-group SocketTimeoutException (.gz); the 400 of platform/base is its push's incident only.
  'request-failed': 1,
  // docker-proxy (push story) and maven-central (broken server): unknown host.
  'proxy-remote-unavailable': 2,
  // The broken server's two starts with a limit of 4096.
  'open-file-limit-low': 2,
  // The reconcile task, in nexus.log and in its task log.
  'task-failed': 2,
  'proxy-auto-blocked': 1,
  'blobstore-missing-blob': 1,
  'jvm-heap-pressure': 1,
  'jvm-out-of-memory': 1,
};
export const SAMPLE_PUSHES = [
  'ctbots/base/llamafactory:pytorch2.7.1-cu12.8-flashattn2.7.4',
  'data/etl/spark:3.5',
  'infra/terraform:1.9',
  'ml/trainer:cuda12',
  'payments/gateway:3.2.0',
  'platform/base:2026.11',
  'staging-validation:sha256:728e1d2755639a7d148e67d1fe6a8c0bb2ce8507e0bae622f1e4c02b3a51222b',
  'team-a/api-server:1.4.2',
  'team-b/worker:2.0.0',
  'team-c/api:2.1.0',
  'tools/jdk17:nightly',
  'web/frontend:pr-1432',
];
export const ZIP_INFO = 'nexus-log-analyzer: support zip samples/support-20261202-143000-1.zip: Nexus 3.77.1-01 OSS on nexus-prod-0, Java 17.0.13 (Eclipse Adoptium)\n';

export function countByRule(incidents: readonly Incident[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const incident of incidents) counts[incident.rule] = (counts[incident.rule] ?? 0) + 1;
  return counts;
}

/** Lines and bytes of every log the CLI reads in samples/ (the zip holds broken-server/log/). */
export function sampleSize(): { lines: number; bytes: number } {
  const logs: Buffer[] = [];
  for (const name of readdirSync(SAMPLES)) {
    if (name.endsWith('.log')) logs.push(readFileSync(path.join(SAMPLES, name)));
    if (name.endsWith('.log.gz')) logs.push(gunzipSync(readFileSync(path.join(SAMPLES, name))));
  }
  const zipped = path.join(SAMPLES, 'broken-server', 'log');
  for (const name of ['nexus.log', 'request.log', ...readdirSync(path.join(zipped, 'tasks')).map((t) => `tasks/${t}`)]) logs.push(readFileSync(path.join(zipped, name)));
  return { lines: logs.reduce((n, b) => n + b.toString('latin1').split('\n').length - 1, 0), bytes: logs.reduce((n, b) => n + b.length, 0) };
}
