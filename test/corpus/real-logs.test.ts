/**
 * Every excerpt of the real-log corpus (test/fixtures/real/, labels in corpus.json) through the
 * DEFAULT analyzer, as a user runs it: `analyzeFiles(file)` with every built-in rule on, the
 * input kind chosen from the file's name and content like the CLI does. For each file:
 *
 * - every `expected` diagnosis is met: an incident of its class (the rule id, or the rule that
 *   takes an `other:` class, README "Classes and rules") that names the labelled subject, whose
 *   evidence holds the proof (the logged event an evidence line points to, stack lines included);
 * - no incident of a class that is neither expected nor `notConclusive` for the file.
 *
 * Expectations that cannot be met are listed below with the reason (OUTSIDE: no rule for the
 * class; NOT_MET: a rule's class the tool misses today), and the test checks they are still
 * unmet, so a fix shows up as a failure asking to move the expectation back in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { builtinRuleIds } from '../../src/rules/builtin';
import { FIXTURES } from '../support/helpers';
import type { CorpusEntry } from '../support/rule-lines';

const DIR = path.join(FIXTURES, 'real');
const corpus = JSON.parse(fs.readFileSync(path.join(DIR, 'corpus.json'), 'utf8')) as CorpusEntry[];
type Expectation = CorpusEntry['expected'][number];

/** Corpus classes that are not rule ids, and the built-in rule (and diagnosis) that takes each. */
const TAKEN: Record<string, { rule: string; cause?: string }> = {
  'server-crash': { rule: 'server-run' },
  'other:h2-database-closed': { rule: 'database-cannot-open' },
  'other:orientdb-storage-exception': { rule: 'database-corrupted' },
  'other:search-index-rebuild-failed': { rule: 'search-index-unhealthy' },
  'other:quartz-job-listener-error': { rule: 'task-failed', cause: 'quartz-job-listener-error' },
  'other:upload-client-early-eof': { rule: 'request-failed', cause: 'upload-client-early-eof' },
};

/** Corpus classes no built-in rule takes: their expectations cannot be met, by design. */
const OUTSIDE: Record<string, string> = {
  'other:proxy-cacheinfo-missing': 'CacheInfo missing for a cached asset is an INFO/WARN detail of one proxy request, not a failure (the content is refetched)',
  'other:task-slow-progress': 'progress lines of a running compact task: no failure in the text',
  'other:npm-proxy-invalid-remote-content': 'the remote (an Artifactory) served invalid JSON to an npm proxy: no rule reads npm metadata parse errors',
  'other:windows-service-start': 'a Windows procrun service log of a start, no failure in the excerpt (the failure is later in the post)',
  'other:datastore-start-exception': 'the middle of a stack trace behind a log viewer timestamp: neither its header nor its root cause is in the excerpt',
  'other:postgresql-jdbc-driver-missing': 'the JDBC driver lines alone name a cause but not a failed start; server-start-failed reads them only as supporting lines of one',
  'other:jetty-bad-message-400': '8 malformed requests (GET /badMessage 400) stay under the request-errors threshold (a burst is needed)',
  'other:karaf-cfg-update-denied': 'Karaf cannot rewrite a cfg file of the installation: known log noise (NEXUS-10049), Nexus runs',
  'other:upgrade-audit-event-npe': 'an NPE delivering an upgrade event to the audit subscriber: an audit error, not a failure of the server',
  'other:gcs-datastore-contention': 'contention on Google Cloud Datastore entities of a blob store plugin: a retry-later condition no rule reads',
  'other:script-task-error': 'a script task logs an ERROR from its Groovy script but the run still ends `Task complete`: no task failure in the text',
  'other:script-api-execution-failed': 'a Script API call (ScriptResource) fails: a failed REST call of an admin script, no rule reads ScriptResource',
  'other:outbound-retry-no-response': 'RetryExec INFO lines (NoHttpResponseException) with no repository named: the retry of one outbound request, not a failure the text concludes',
  'other:crowd-realm-request-failed': 'errors of a third-party Crowd realm plugin (CrowdMapper): no rule reads plugin realms',
  'other:apt-snapshot-metadata-missing': 'an apt snapshot Release file answered 404 to clients in request.log: a few 404s of one repository, under the request-errors threshold',
  'other:db-migration-failed': 'the nexus-db-migrator console (`Migration job finished with status FAILED.`, times without dates): a separate tool, not a nexus.log; no rule reads it',
  'other:extdirect-unauthenticated-debug': 'a DEBUG line of an unauthenticated UI call: DEBUG is never read (and it is a session that expired, not a failure)',
  'other:keycloak-realm-request-failed': 'a third-party Keycloak realm plugin answering 401: no rule reads plugin realms',
  'other:ldap-user-not-found-debug': 'a DEBUG line of the LDAP realm (user not found): DEBUG is never read, and an unknown user is not an LDAP outage',
  'other:orient-diskcache-memory-warning': 'OrientDB warns at start that the disk cache would exceed physical memory: a sizing warning, Nexus runs',
  'other:plugin-bundle-unresolved': 'an OSGi bundle of a plugin with a missing requirement: the plugin does not load, Nexus itself starts',
  'other:realm-plugin-class-missing': 'a headerless ClassNotFoundException of a realm plugin class: the plugin is absent, no rule reads realm configuration',
  'other:guice-injection-point-warning': 'a known harmless Guice InjectionPoint warning at start: no failure',
  'other:http-error-page-500': "a Jetty error page (HTML) pasted instead of a log: no log line to read",
  'other:plugin-bundle-broken': 'a plugin bundle BROKEN by a Guice CreationException: the plugin does not load, Nexus starts; no rule reads bundle states',
  'other:plugin-lifecycle-start-failed': "a plugin's own component fails its start transition (NexusCascPlugin): not one of the components without which Nexus does not start",
  'other:plugin-privilege-clash': 'two format plugins defining the same privilege: a plugin conflict no rule reads',
  'other:docker-gc-null-digest': "only the Suppressed NPE (`Cannot get property 'digest' on null object`) of a Docker cleanup run, no task line: task-failed gives this cause only to a failed run it reads",
  'other:forwarded-header-rejected': 'requests rejected for an invalid X-Forwarded-Proto header: a reverse-proxy misconfiguration no rule reads',
  'other:karaf-lock-lost': "Karaf lost its instance lock and set the start level to 1 (`Lock lost. Setting startlevel to 1`): server-run does not read Karaf's lock monitor",
  'other:support-zip-failed': 'creating a support zip failed (a log file missing): an admin action, not a failure of the server',
  'other:java-prefs-lock-warning': "java.util.prefs cannot lock its user preferences file: a JVM warning of a read-only home, Nexus runs",
  'other:outbound-remote-404': 'a remote answering 404 in outbound-request.log: a proxy asking for content the remote does not have, its everyday answer',
  'other:outreach-page-bundle-download-failed': "the UI's outreach page bundle could not be downloaded (TLS handshake): a welcome-page extra, not a proxy repository's failure",
  'other:yum-metadata-rebuild-failed': 'a yum metadata rebuild failing inside the event bus while its task log says Task complete: no task failure in the text',
};

/**
 * Expectations of a rule's class the default analyzer does not meet today, by file and class,
 * with the reason. The test below checks each is still unmet.
 */
const NOT_MET: Record<string, Record<string, string>> = {
  'np-394-orient-exception-in-storage-discourse-quotes.log': {
    'database-cannot-open':
      "the excerpt stops before 'Cannot open local storage': the bare `Exception <hex> in storage plocal:...` alone is read as a storage exception (database-corrupted, low confidence), not as a failed open",
  },
  'np-259-rancher-html-table-paste-uptime-shutdown-3-42.log': {
    'server-start-failed':
      'the start-level stack trace is cut above the excerpt; what is left is an orderly stop (Uptime 2 min 16 s, Shutting down) with no banner, longer than the 2 minutes server-run takes for a likely failed start',
  },
  'cray-nexus-setup-orient-console-page-broken-rebuild-index.log': {
    'database-corrupted':
      "an OrientDB console session (`2021-02-04 20:53:31:885 SEVER {db=component} ...`: millis after a colon, no thread, no logger): its lines are not nexus.log records, and the OPageIsBrokenException line is inside one of them",
  },
  'wmenjoy-16-orient-wal-cuttill-npe-after-disk-full.log': {
    'database-corrupted': 'a bare NullPointerException and its frames, no log header: stack frames are never matched, and the damaged write-ahead log shows only in a frame (ODiskWriteAheadLog.cutTill)',
  },
  'np-158-es-gc-old-growth-first-line-quoted-3-58.log': {
    'jvm-heap-pressure': "an Elasticsearch `[gc][young]` line whose old pool grew to 1.5 of 1.7 GB: jvm-heap-pressure reads `[gc][old]` pauses and MemoryMonitor, not young collections (the post's `[gc][old]` line is cut from the copy)",
  },
  'helm-charts-12298-olowdiskspace-osystem-frames-only.log': {
    'disk-full': 'only the stack frames of the OLowDiskSpaceException were copied (its exception line is cut in every copy): stack frames are never matched',
  },
  'np-565-k9s-box-karaf-bundle-resource-missing.log': {
    'server-start-failed': 'a k9s log pane copy (`│ nexus ` borders, the first line cut mid-prefix) is no layout the framer reads, and no rule reads the Karaf `Unable to create resource for bundle` text',
  },
};

/** The rule id a corpus class means, or null when no rule takes it. */
function ruleOf(label: string): string | null {
  if (label in OUTSIDE) return null;
  return TAKEN[label]?.rule ?? label;
}

async function incidentsOf(file: string): Promise<Incident[]> {
  const found: Incident[] = [];
  for await (const incident of analyzeFiles(path.join(DIR, file))) found.push(incident);
  return found;
}

const TOKEN = /[a-z0-9_-]/;

/** `name` occurs in `text` as a whole token (not inside a longer name). */
function hasToken(text: string, name: string): boolean {
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) {
    if (!TOKEN.test(text[at - 1] ?? ' ') && !TOKEN.test(text[at + name.length] ?? ' ')) return true;
  }
  return false;
}

function factTexts(incident: Incident): string[] {
  const values: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') values.push(value.toLowerCase());
    else if (Array.isArray(value)) value.forEach(walk);
  };
  Object.values(incident.facts).forEach(walk);
  return values;
}

/**
 * Whether the incident names the labelled subject: its subject is the label (the label may add a
 * qualifier in brackets: `nexus (datastore schema)`), holds it (`job <key>`, `<repo>/<image>:<tag>`),
 * is a whole name within it (`nexus.service` for the server `nexus`), or a fact holds it.
 */
function namesSubject(incident: Incident, subject: string | null): boolean {
  if (subject === null) return true;
  const wanted = subject.toLowerCase();
  const core = wanted.replace(/\s*\(.*\)\s*$/, '');
  const name = incident.subject?.name.toLowerCase();
  if (name !== undefined && (name === core || name.includes(core) || hasToken(wanted, name))) return true;
  return factTexts(incident).some((fact) => fact.includes(core));
}

const HEADER = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}/;

/** The logged event an evidence line points to: its line and the lines after it up to the next record. */
function eventText(lines: readonly string[], line: number): string {
  const out = [lines[line - 1] ?? ''];
  for (let at = line; at < lines.length && out.length < 200; at++) {
    const next = lines[at] as string;
    if (HEADER.test(next.slice(0, 120))) break;
    out.push(next);
  }
  return out.join('\n');
}

function evidenceHolds(incident: Incident, lines: readonly string[], proof: string): boolean {
  return incident.evidence.some((evidence) => evidence.text.includes(proof) || eventText(lines, evidence.line).includes(proof));
}

function meets(incidents: readonly Incident[], expectation: Expectation, lines: readonly string[]): { met: boolean; why: string } {
  const rule = ruleOf(expectation.class) as string;
  const cause = TAKEN[expectation.class]?.cause;
  const ofClass = incidents.filter((i) => i.rule === rule && (cause === undefined || i.diagnosis.cause === cause));
  if (ofClass.length === 0) return { met: false, why: `no ${rule} incident${cause === undefined ? '' : ` with cause ${cause}`}` };
  const named = ofClass.filter((i) => namesSubject(i, expectation.subject));
  if (named.length === 0) return { met: false, why: `subject ${expectation.subject} not named (found ${ofClass.map((i) => i.subject?.name ?? 'null').join(', ')})` };
  if (!named.some((i) => evidenceHolds(i, lines, expectation.proof))) return { met: false, why: `proof not in the evidence of ${rule}` };
  return { met: true, why: '' };
}

/** A server-run incident of a failed start is the timeline entry of the server-start-failed it goes with. */
function companionOf(incident: Incident, allowed: ReadonlySet<string>): boolean {
  return incident.rule === 'server-run' && incident.facts['outcome'] === 'failed-start' && allowed.has('server-start-failed');
}

const cases = corpus.map((entry) => [entry.file, entry] as const);

describe('the real-log corpus through the default analyzer', () => {
  const results = new Map<string, Incident[]>();
  beforeAll(async () => {
    for (const entry of corpus) results.set(entry.file, await incidentsOf(entry.file));
  });

  it.each(cases)('%s: every expectation met, no class outside the labels', (file, entry) => {
    const incidents = results.get(file) as Incident[];
    const lines = fs.readFileSync(path.join(DIR, file), 'utf8').split(/\r?\n/);
    const unmet: string[] = [];
    for (const expectation of entry.expected) {
      if (ruleOf(expectation.class) === null || NOT_MET[file]?.[expectation.class] !== undefined) continue;
      const { met, why } = meets(incidents, expectation, lines);
      if (!met) unmet.push(`${expectation.class}: ${why}`);
    }
    expect(unmet).toEqual([]);

    const allowed = new Set([...entry.expected.map((e) => e.class), ...entry.notConclusive].map(ruleOf).filter((id): id is string => id !== null));
    const extra = incidents.filter((i) => !allowed.has(i.rule) && !companionOf(i, allowed)).map((i) => `${i.rule} ${i.subject?.name ?? ''}: ${i.summary}`);
    expect(extra).toEqual([]);
  });

  it.each(Object.entries(NOT_MET).flatMap(([file, classes]) => Object.entries(classes).map(([label, why]) => [file, label, why] as const)))(
    '%s: %s is still not met (%s)',
    (file, label) => {
      const entry = corpus.find((e) => e.file === file);
      const expectation = entry?.expected.find((e) => e.class === label) as Expectation;
      expect(expectation).toBeDefined();
      const lines = fs.readFileSync(path.join(DIR, file), 'utf8').split(/\r?\n/);
      expect(meets(results.get(file) as Incident[], expectation, lines).met).toBe(false);
    },
  );

  it('labels are well formed: every proof is in its file, every class is a rule id or mapped, every file is labelled', () => {
    const ids = new Set(builtinRuleIds());
    for (const entry of corpus) {
      const text = fs.readFileSync(path.join(DIR, entry.file), 'utf8');
      for (const e of entry.expected) expect([entry.file, text.includes(e.proof)]).toEqual([entry.file, true]);
      for (const label of [...entry.expected.map((e) => e.class), ...entry.notConclusive]) {
        const rule = ruleOf(label);
        expect([entry.file, label, rule === null || ids.has(rule)]).toEqual([entry.file, label, true]);
      }
      expect(entry.source).toMatch(/^https:\/\//);
    }
    const logs = fs.readdirSync(DIR).filter((name) => name.endsWith('.log')).sort();
    expect(corpus.map((e) => e.file).sort()).toEqual(logs);
  });

  it('the README documents the same class mapping as this test', () => {
    const readme = fs.readFileSync(path.join(DIR, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Classes and rules'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => [m[1], (m[2] as string).trim()]);
    const expected = [
      ...Object.entries(TAKEN).map(([label, taken]) => [label, `\`${taken.rule}\`${taken.cause === undefined ? '' : ` (cause \`${taken.cause}\`)`}`]),
      ...Object.keys(OUTSIDE).map((label) => [label, 'none']),
    ];
    expect(rows.sort()).toEqual(expected.sort());
  });
});
