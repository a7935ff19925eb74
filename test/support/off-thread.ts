/**
 * Runs built-in rules (the built dist/) over some log text on a worker thread. For the
 * adversarial-input tests: jest's timeout cannot interrupt synchronous work on the test's own
 * thread (a run that takes minutes still "passes"), but it does fail a test that awaits a worker
 * which has not answered. So a super-linear parse fails on the test's timeout, with no clock
 * read in the test itself.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Incident } from '../../src/incidents/incident';
import { ROOT } from './helpers';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Analyzer, allBuiltinRules } = require(workerData.dist);
const rules = allBuiltinRules().filter((rule) => workerData.ruleIds.includes(rule.id));
const analyzer = new Analyzer({ ...workerData.options, rules });
parentPort.postMessage([...analyzer.write(workerData.text), ...analyzer.end()]);
`;

export interface OffThreadOptions {
  kind?: 'nexus' | 'request' | 'audit';
  source?: string;
}

/** The closed incidents of `ruleIds[0]` for some log text, run with the rules named (by id) only. */
export function incidentsOffThread(ruleIds: readonly string[], text: string | readonly string[], options: OffThreadOptions = {}): Promise<Incident[]> {
  const joined = typeof text === 'string' ? text : `${text.join('\n')}\n`;
  const worker = new Worker(WORKER, { eval: true, workerData: { dist: path.join(ROOT, 'dist', 'index.js'), ruleIds, text: joined, options } });
  worker.unref(); // a test that timed out leaves it running without holding the process open
  return new Promise<Incident[]>((resolve, reject) => {
    worker.once('message', (incidents: Incident[]) => {
      resolve(incidents.filter((incident) => incident.rule === ruleIds[0]));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
