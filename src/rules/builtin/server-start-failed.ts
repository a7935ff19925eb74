/**
 * Rule `server-start-failed`: Nexus did not start. One incident per server while its starts keep
 * failing (30 minutes without a new failure line ends it; a container restarting in a loop is
 * one incident with the number of attempts), classified by cause from the failure lines and
 * their exception lines (shared reference nexus-catalogue.md, LC-3, LC-4, DB-6, and the
 * real-log corpus, class server-start-failed).
 *
 * What says the start failed (fatal):
 *
 *   NexusContextListener ERROR Failed to start nexus  |  Failed to initialize context   (LC-4, + stack)
 *   JettyServer ERROR Start failed  |  Failed to start                                  (LC-3, + stack; 3.78+: bootstrap.entrypoint.jetty.JettyServer)
 *   BootstrapListener ERROR Failed to initialize
 *   NexusLifecycleManager WARN Problem starting {PHASE}: {component}                     (LC-4; not TASKS, whose errors do not stop the start)
 *   UpgradeServiceImpl | DataStoreManagerImpl | MyBatisDataStore ... ERROR Failed transition: NEW -> STARTED
 *   MyBatisDataStore ERROR (banner) This instance is using a legacy Orient database.     (DB-6: the process exits with code 1)
 *   Felix ERROR Bundle org.sonatype.nexus.<x> [n] Error starting ... (java.lang.OutOfMemoryError: Java heap space)
 *
 * What says why (supporting lines, in the same start):
 *
 *   OrientDB WARN Storage 'plocal:/nexus-data/db/component' was not closed properly. Will try to recover from write ahead log
 *   UpgradeManagerImpl ERROR Missing migrations: [...]
 *   HikariPool ERROR nexus - Exception during pool initialization. (+ PSQLException, No suitable driver ...)
 *   <any> ... Failed to get driver instance for jdbcUrl="jdbc:postgresql://..."  /  java.sql.SQLException: No suitable driver
 *
 * Causes told apart: a database from a later version (a rollback), a failed migration left in
 * the schema history, HA nodes at mixed versions, a legacy OrientDB that must be migrated first,
 * PostgreSQL refusing connections or credentials, no JDBC driver for the URL, a missing Jetty
 * keystore or its password, a damaged OrientDB (after an unclean shutdown when recovery was
 * attempted), a locked H2 file, permissions on the data directory, the temp directory, the
 * port in use, the heap, the JVM, a full disk. Launcher output with no nexus.log timestamp
 * (systemd journal, `bin/nexus run`, a container's start script, Guice errors) is read as loose
 * text (`matchLauncher`); a Windows procrun service log is not: see docs/rules/server-start-failed.md.
 */
import type { AnyEvent, NexusEvent } from '../../events/log-event';
import type { Finding, Reference, Rule, Subject } from '../rule';
import { asException, exceptionsOf, rootCause, shortException } from './exception-lines';
import { coreBundleActivationFailure } from './server-lifecycle';
import { plural } from './wording';

export type StartFailureCause =
  | 'legacy-orient-must-migrate'
  | 'database-from-later-version'
  | 'ha-nodes-mixed-versions'
  | 'migration-validation-failed'
  | 'migration-failed'
  | 'orient-java-too-new'
  | 'license-missing'
  | 'logging-config-invalid'
  | 'format-plugin-missing'
  | 'jvm-cannot-reserve-memory'
  | 'postgresql-refused'
  | 'postgresql-auth-failed'
  | 'postgresql-database-missing'
  | 'jdbc-driver-missing'
  | 'jetty-keystore-missing'
  | 'jetty-keystore-password'
  | 'orient-recovery-failed'
  | 'orient-database-damaged'
  | 'h2-database-locked'
  | 'data-directory-permissions'
  | 'temp-directory-unusable'
  | 'port-in-use'
  | 'out-of-memory'
  | 'unsupported-jvm'
  | 'disk-full'
  | 'datastore-not-started'
  | 'start-exception';

/** A cause and what the text named about it (a path, a URL, a version). */
export interface Classified {
  cause: StartFailureCause;
  detail: string | null;
}

/** Most specific first: the first cause any line shows wins. */
const ORDER: readonly StartFailureCause[] = [
  'legacy-orient-must-migrate',
  'database-from-later-version',
  'ha-nodes-mixed-versions',
  'migration-validation-failed',
  'migration-failed',
  'orient-java-too-new',
  'license-missing',
  'logging-config-invalid',
  'format-plugin-missing',
  'jvm-cannot-reserve-memory',
  'jetty-keystore-missing',
  'jetty-keystore-password',
  'postgresql-auth-failed',
  'postgresql-database-missing',
  'postgresql-refused',
  'jdbc-driver-missing',
  'disk-full',
  'orient-recovery-failed',
  'orient-database-damaged',
  'h2-database-locked',
  'out-of-memory',
  'unsupported-jvm',
  'data-directory-permissions',
  'temp-directory-unusable',
  'port-in-use',
  'datastore-not-started',
  'start-exception',
];

function after(text: string, marker: string, stops = ' "\'),'): string | null {
  const at = text.indexOf(marker);
  if (at === -1) return null;
  let end = at + marker.length;
  while (end < text.length && !stops.includes(text[end] as string)) end++;
  const value = text.slice(at + marker.length, end);
  return value === '' ? null : value;
}

/** The path in `java.io.FileNotFoundException: /x/y (Permission denied)` and similar. */
function pathNear(text: string, needle: string): string | null {
  const at = text.indexOf(needle);
  if (at === -1) return null;
  const before = text.lastIndexOf(' /', at);
  const colon = text.lastIndexOf(': ', at);
  const start = before > colon ? before + 1 : colon === -1 ? -1 : colon + 2;
  if (start === -1) return null;
  let end = start;
  while (end < text.length && text[end] !== ' ' && text[end] !== ':') end++;
  const path = text.slice(start, end).replace(/^['"]|['"]$/g, '');
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('..') ? path : null;
}

/** Cuts a path to its data directory (`/nexus-data/log/karaf.log` -> `/nexus-data`). */
function dataDirOf(path: string): string {
  for (const root of ['/nexus-data', '/opt/sonatype/sonatype-work/nexus3', 'sonatype-work/nexus3']) {
    const at = path.indexOf(root);
    if (at !== -1) return path.slice(0, at + root.length);
  }
  return path;
}

/** Every cause `text` shows, most specific first. One text: a message, an exception line or a launcher line. */
export function classifyText(text: string): Classified[] {
  const found: Classified[] = [];
  const add = (cause: StartFailureCause, detail: string | null = null): void => {
    found.push({ cause, detail });
  };
  if (text.includes('using a legacy Orient database') || text.includes('An unsupported orient database is present')) add('legacy-orient-must-migrate');
  if (text.includes('database appears to be from a later version')) add('database-from-later-version');
  if (text.startsWith('Missing migrations: ')) add('database-from-later-version', text.slice('Missing migrations: '.length).slice(0, 200));
  if (text.includes('with a different version') || text.includes('unable to perform clustered deployment')) add('ha-nodes-mixed-versions', after(text, 'for node '));
  if (text.includes('Migrations have failed validation') || text.startsWith('Detected failed ')) add('migration-validation-failed', after(text, 'migration: ', ' .'));
  // Flyway's `Migration of schema "public" with repeatable migration "ReconcileTaskMigrationStep" failed!`, then `UpgradeException: Migration failed !`
  if (text.startsWith('Migration of schema ') && text.includes(' failed')) add('migration-failed', after(text, ' migration "', '"'));
  if (text.includes('UpgradeException: Migration failed')) add('migration-failed');
  if (text.includes('The maximum Java version for OrientDb is ')) add('orient-java-too-new', after(text, 'The maximum Java version for OrientDb is ', '.'));
  // A repository of a format whose plugin is not installed (any more): `Missing recipe: composer-proxy`
  if (text.includes('Missing recipe: ')) add('format-plugin-missing', after(text, 'Missing recipe: '));
  // The JVM could not get its heap from the host: `There is insufficient memory for the Java Runtime Environment to continue.`
  if (text.includes('insufficient memory for the Java Runtime Environment') || (text.includes('os::commit_memory') && text.includes('Cannot allocate memory'))) add('jvm-cannot-reserve-memory');
  // Logback status lines: `Could not create component [filter] of type [org.sonatype.nexus.logging.ClusterLogFilter]`
  if (text.includes('Logback configuration error detected') || (text.includes('ch.qos.logback') && text.includes('Could not create '))) add('logging-config-invalid', after(text, ' of type [', ']'));
  // `NoSuchFileException: /var/nexus-repo-license/nexus-repo-license.lic` (the licence file the configuration names is not there)
  if (text.includes('.lic') && (text.includes('NoSuchFileException') || text.includes('FileNotFoundException'))) add('license-missing', pathNear(text, '.lic') ?? after(text, 'NoSuchFileException: '));
  if (text.includes('.jks') || text.includes('keystore') || text.includes('KeyStore')) {
    if (text.includes('No such file') || text.includes('FileNotFoundException') || text.includes('does not exist') || text.includes('NoSuchFileException')) {
      add('jetty-keystore-missing', pathNear(text, '.jks') ?? pathNear(text, 'keystore'));
    } else if (text.includes('password was incorrect') || text.includes('Keystore was tampered with')) add('jetty-keystore-password');
  }
  if (text.includes('Keystore was tampered with, or password was incorrect')) add('jetty-keystore-password');
  if (text.includes('password authentication failed for user')) add('postgresql-auth-failed', after(text, 'for user "', '"'));
  if (text.includes('FATAL: database "') && text.includes('does not exist')) add('postgresql-database-missing', after(text, 'database "', '"'));
  if ((text.includes('Connection to ') && text.includes(' refused')) || text.includes('postmaster is accepting TCP/IP connections')) {
    add('postgresql-refused', after(text, 'Connection to ', ' '));
  }
  if (text.includes('No suitable driver') || text.includes('Failed to get driver instance for jdbcUrl')) add('jdbc-driver-missing', after(text, 'jdbcUrl=', ' ,)'));
  if (text.includes('No space left on device')) add('disk-full');
  if (text.includes('was not closed properly')) add('orient-recovery-failed', after(text, "Storage '", "'"));
  if (text.includes('does not exist in storage') || text.includes('OPageIsBrokenException') || text.includes('Exception during storage data restore') || text.includes('OSchemaNotCreatedException')) {
    add('orient-database-damaged', after(text, "in storage '", "'"));
  }
  if (text.includes('Database may be already in use')) add('h2-database-locked', after(text, 'already in use: "', '"'));
  if (text.includes('OutOfMemoryError')) add('out-of-memory', after(text, 'OutOfMemoryError: ', ')'));
  if (
    text.includes('UnsupportedClassVersionError') ||
    text.includes('No suitable Java Virtual Machine') ||
    text.includes('Could not create the Java Virtual Machine') ||
    text.includes('Unrecognized VM option') ||
    text.includes('The version of the JVM must be')
  ) {
    add('unsupported-jvm', after(text, 'The version of the JVM must be ', ' ')?.replace(/\.$/, '') ?? null);
  }
  if (text.includes('Permission denied') || text.includes('AccessDeniedException') || text.includes('Operation not permitted') || text.includes('Could not lock User prefs')) {
    const path = pathNear(text, 'Permission denied') ?? pathNear(text, 'AccessDeniedException') ?? pathNear(text, 'Operation not permitted') ?? after(text, 'AccessDeniedException: ');
    add('data-directory-permissions', path === null ? null : dataDirOf(path));
  }
  if (text.includes('Unable to create directory') || text.includes('cannot create directory')) {
    // `mkdir: cannot create directory '../sonatype-work/nexus3/log': Permission denied`, `Unable to create directory /nexus-data/instances`
    const path = after(text, "cannot create directory '", "'") ?? after(text, 'Unable to create directory ', ' "\'),:');
    add('data-directory-permissions', path === null ? null : dataDirOf(path));
  }
  if (text.includes('Bad temp directory')) add('temp-directory-unusable', after(text, 'Bad temp directory: '));
  if (text.includes('Address already in use')) add('port-in-use');
  if (text.includes("Data store not found: '") || text.includes('DataStoreNotFoundException')) add('datastore-not-started', after(text, "Data store not found: '", "'"));
  return found;
}

/** Whether `c` says more than `best`: a more specific cause, or the same one with a detail (an absolute path over a relative one). */
function better(c: Classified, best: Classified | null): boolean {
  if (best === null || ORDER.indexOf(c.cause) < ORDER.indexOf(best.cause)) return true;
  if (c.cause !== best.cause || c.detail === null) return false;
  return best.detail === null || (!best.detail.startsWith('/') && c.detail.startsWith('/'));
}

/** The most specific cause the texts show, or null. */
export function classifyStartFailure(texts: readonly string[]): Classified | null {
  let best: Classified | null = null;
  for (const text of texts) for (const c of classifyText(text)) if (better(c, best)) best = c;
  return best;
}

interface Signal {
  fatal: boolean;
  /** What the line says, short: `Failed to start nexus`, `JettyServer: Start failed`. */
  what: string;
  phase: string | null;
  texts: string[];
  root: string | null;
}

interface State {
  node: string | null;
  attempts: number;
  lastFatalAt: number | null;
  firstFatal: string | null;
  phase: string | null;
  cause: Classified | null;
  root: string | null;
  /** The Orient recovery line was seen: the failure followed an unclean shutdown. */
  recovery: boolean;
}

const CRITICAL_COMPONENTS = [
  'UpgradeServiceImpl',
  'UpgradeManagerImpl',
  'DataStoreManagerImpl',
  'MyBatisDataStore',
  'NodeAccessBooter',
  'DatabaseManagerImpl',
  'DatabaseServerImpl',
  'SecurityConfigurationManagerImpl',
  // The manager of all repositories (one repository failing logs from its own facet instead).
  'RepositoryManagerImpl',
];
/** Attempts closer than this are one start (several lines of the same failure). */
const SAME_ATTEMPT_MS = 10_000;

function lastSegment(logger: string): string {
  return logger.slice(logger.lastIndexOf('.') + 1);
}

function signalOf(event: NexusEvent, fatal: boolean, what: string, phase: string | null = null): Signal {
  const texts = [event.message, ...event.continuation];
  return { fatal, what, phase, texts: texts.map((t) => t.slice(0, 2000)).slice(0, 40), root: rootCause(event.continuation) ?? asException(event.message) };
}

/**
 * What launchers, start scripts and Guice print when Nexus cannot start, before (or instead of)
 * nexus.log lines: the systemd journal, `bin/nexus run`, `docker logs` / `kubectl logs` of a
 * container in a restart loop. These lines have no nexus.log header, so they reach the rule only
 * as loose text (an event with no logger).
 */
const LAUNCHER_FAILURES = [
  'No suitable Java Virtual Machine',
  'karaf.pid (Permission denied)',
  'karaf.log (Permission denied)',
  'cannot create directory',
  'Unable to update instance pid',
  'Failed to start nexus service',
  // Karaf's launcher: a bundle of etc/startup.properties (a plugin added there) cannot be installed.
  'Error installing bundle listed in startup.properties',
  // 3.83+ (Spring Boot entrypoint): the logging configuration fails before anything is logged.
  'Logback configuration error detected',
  // The JVM could not reserve its heap from the host (hs_err banner on the console).
  'There is insufficient memory for the Java Runtime Environment to continue',
  // HA: another node runs another version (the exception text pasted without its log line).
  'unable to perform clustered deployment',
];
/** Guice errors of a component constructed at start (`1) Error injecting constructor, ...`): fatal when their cause is known. */
const GUICE_FAILURES = ['Error injecting constructor', '[Guice/ErrorInjectingConstructor]'];

/** A loose line (no nexus.log header) that says the start failed, or undefined. */
function matchLauncher(event: NexusEvent): Signal | undefined {
  const message = event.message.trim();
  const launcher = LAUNCHER_FAILURES.some((text) => message.includes(text));
  if (!launcher && !(GUICE_FAILURES.some((text) => message.includes(text)) && classifyText(message).length > 0)) return undefined;
  return signalOf(event, true, `${launcher ? 'launcher' : 'Guice'}: ${message.slice(0, 160)}`);
}

function matchEvent(event: NexusEvent): Signal | undefined {
  if (event.logger === '' && event.timestampText === '') {
    const launcher = matchLauncher(event);
    if (launcher !== undefined) return launcher;
  }
  const logger = lastSegment(event.logger);
  const message = event.message.trim();
  if (event.level === 'ERROR') {
    if (logger === 'NexusContextListener' && (message === 'Failed to start nexus' || message === 'Failed to initialize context')) return signalOf(event, true, message);
    if (logger === 'JettyServer' && (message === 'Start failed' || message === 'Failed to start')) return signalOf(event, true, `JettyServer: ${message}`);
    if (logger === 'BootstrapListener' && message === 'Failed to initialize') return signalOf(event, true, `BootstrapListener: ${message}`);
    if (message.startsWith('Failed transition: NEW -> STARTED')) {
      // A blob store or a repository that fails to start does not stop Nexus: supporting only.
      return signalOf(event, CRITICAL_COMPONENTS.includes(logger), `${logger}: Failed transition: NEW -> STARTED`);
    }
    if (logger === 'Felix' && message.includes(' Error starting ')) {
      const bundle = message.startsWith('Bundle ') ? message.slice(7, message.indexOf(' ', 7)) : '';
      return signalOf(event, bundle.startsWith('org.sonatype.nexus') || message.includes('OutOfMemoryError'), `Bundle ${bundle} failed to start`);
    }
    if (logger === 'UpgradeManagerImpl' && (message.startsWith('Missing migrations: ') || message.startsWith('expected schema to be on baseline version'))) {
      return signalOf(event, false, `UpgradeManagerImpl: ${message.slice(0, 120)}`);
    }
  }
  if (logger === 'DbMigrate' && message.startsWith('Migration of schema ')) return signalOf(event, false, message.slice(0, 200));
  // Karaf cannot install its boot features: nothing of Nexus starts.
  if (logger === 'BootFeaturesInstaller' && message.startsWith('Error installing boot features')) return signalOf(event, true, 'Karaf: Error installing boot features');
  // A core bundle's activator failed (`FrameworkEvent ERROR` with its BundleException): the Nexus
  // bootstrap (3.0 era), or Karaf's own features service (a JVM agent breaking class loading).
  const bundle = coreBundleActivationFailure(message, event.continuation);
  if (bundle !== null) return signalOf(event, true, `the ${bundle} bundle failed to activate`);
  // Jetty could not start the Nexus web application: nothing is served.
  if (logger === 'WebAppContext' && message.startsWith('Failed startup of context') && message.includes('Nexus')) return signalOf(event, true, 'WebAppContext: Failed startup of context');
  if (event.level === 'WARN' && logger === 'NexusLifecycleManager' && message.startsWith('Problem starting ')) {
    const phase = message.slice('Problem starting '.length).split(':')[0]?.trim() ?? null;
    return signalOf(event, phase !== 'TASKS', message.slice(0, 160), phase);
  }
  const texts = [event.message, ...event.continuation];
  if (texts.some((t) => t.includes('using a legacy Orient database'))) return signalOf(event, true, 'legacy Orient database (the process exits with code 1)');
  if (message.includes('was not closed properly')) return signalOf(event, false, message.slice(0, 200));
  if (texts.some((t) => t.includes('Failed to get driver instance for jdbcUrl') || t.includes('No suitable driver') || t.includes('Exception during pool initialization'))) {
    return signalOf(event, false, `${logger}: ${message.slice(0, 160)}`);
  }
  return undefined;
}

function subjectOf(state: Readonly<State>): Subject | null {
  const c = state.cause;
  if (c === null) return null;
  switch (c.cause) {
    case 'data-directory-permissions':
    case 'temp-directory-unusable':
      return { type: 'directory', name: c.detail ?? 'data directory' };
    case 'jetty-keystore-missing':
    case 'jetty-keystore-password':
      return { type: 'path', name: c.detail ?? 'Jetty keystore' };
    case 'license-missing':
      return { type: 'path', name: c.detail ?? 'licence file' };
    case 'orient-database-damaged':
    case 'orient-recovery-failed': {
      const name = c.detail === null ? 'OrientDB' : c.detail.slice(c.detail.lastIndexOf('/') + 1);
      return { type: 'database', name };
    }
    case 'out-of-memory':
    case 'unsupported-jvm':
    case 'orient-java-too-new':
    case 'jvm-cannot-reserve-memory':
      return { type: 'jvm', name: state.node ?? 'nexus' };
    case 'legacy-orient-must-migrate':
    case 'database-from-later-version':
    case 'migration-validation-failed':
    case 'migration-failed':
    case 'postgresql-refused':
    case 'postgresql-auth-failed':
    case 'postgresql-database-missing':
    case 'jdbc-driver-missing':
    case 'h2-database-locked':
    case 'datastore-not-started':
      return { type: 'database', name: 'nexus' };
    default:
      return null;
  }
}

/**
 * What the incident is about: the cause's subject, else the Nexus instance that failed to start
 * (type `instance`, not `server`: the triage view lists `server` subjects as runs).
 */
function subjectOrServer(state: Readonly<State>): Subject {
  return subjectOf(state) ?? { type: 'instance', name: state.node ?? 'nexus' };
}

interface Explained {
  what: string;
  explanation: string;
  confidence: 'high' | 'medium' | 'low';
  remediation: string[];
  references?: Reference[];
}

function explain(c: Classified | null, state: Readonly<State>): Explained {
  const detail = c?.detail ?? null;
  const root = state.root === null ? null : shortException(state.root, 300);
  switch (c?.cause) {
    case 'legacy-orient-must-migrate':
      return {
        what: 'this version no longer runs on the legacy OrientDB database it found',
        explanation: 'Nexus 3.71 and later run only on H2 or PostgreSQL. The data directory still holds OrientDB databases (db/config, db/component, db/security), so Nexus logged the migration banner and exited with code 1.',
        confidence: 'high',
        remediation: [
          'Start the previous version again (3.70.x), migrate the database to H2 or PostgreSQL with the Nexus database migrator, then upgrade.',
          'Back up the data directory first; the migrator needs the Nexus instance stopped.',
        ],
        references: [{ title: 'Nexus Repository: unsupported database, migrate to H2 or PostgreSQL', url: 'https://links.sonatype.com/products/nxrm3/docs/unsupported-db' }],
      };
    case 'database-from-later-version':
      return {
        what: 'the database is from a later version of Nexus Repository',
        explanation:
          `The database schema holds migrations this version does not know${detail === null ? '' : ` (${detail})`}: it was upgraded by a newer Nexus than the one starting now. ` +
          'That happens after a rollback to an older version (or an older image or package) once a newer one has started on the same database.',
        confidence: 'high',
        remediation: [
          'Start the version that upgraded the database (the newer one) again.',
          'To really go back, restore the database backup taken before the upgrade, together with the blob stores of the same moment; a database cannot be downgraded in place.',
        ],
      };
    case 'ha-nodes-mixed-versions':
      return {
        what: 'other nodes of this HA cluster run a different version',
        explanation: 'A clustered (HA) node refuses to start while nodes of another Nexus version are running against the same database: all nodes must run the same version.',
        confidence: 'high',
        remediation: [
          'Stop every node that runs the old version (for the Helm chart: scale the StatefulSet to 0 and wait until all pods are gone), then start the nodes of the new version.',
          'Make upgrades stop the whole cluster first (no rolling update across versions).',
        ],
        references: [{ title: 'sonatype/nxrm3-ha-repository issue 89: scale down before upgrading', url: 'https://github.com/sonatype/nxrm3-ha-repository/issues/89' }],
      };
    case 'migration-validation-failed':
      return {
        what: `the database upgrade found a failed migration in its schema history${detail === null ? '' : ` (${detail})`}`,
        explanation: 'An earlier upgrade attempt stopped half-way and left a failed migration in the schema history; the upgrade refuses to run on it ("Migrations have failed validation"), so Nexus does not start after the upgrade.',
        confidence: 'high',
        remediation: [
          'Restore the database backup taken before the upgrade and run the upgrade again (with enough disk, memory and time that it completes).',
          'If there is no backup: with Sonatype support, remove the half-done changes and repair the schema history (the message says so), then start again.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 700: startup error after upgrade (failed migration)', url: 'https://github.com/sonatype/nexus-public/issues/700' }],
      };
    case 'migration-failed':
      return {
        what: `a database migration of the upgrade failed${detail === null ? '' : ` (${detail})`}`,
        explanation:
          'At the first start of a new version Nexus migrates its database schema (Flyway); a migration step failed and was rolled back ("Migration failed !"), so the upgrade stopped and Nexus does not start. The step\'s own error is in the lines just before.',
        confidence: 'high',
        remediation: [
          'Read the error of the failed migration step (the lines before "Migration ... failed!"): it often names a row or a constraint the step cannot handle.',
          'Check the release notes and known issues of the version upgraded to (a failing step is often fixed in the next patch release); restore the database backup taken before the upgrade, then upgrade again to a fixed version.',
          'Do not start the old version on the half-migrated database: restore the backup first.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 710: repeatable migration ReconcileTaskMigrationStep failed', url: 'https://github.com/sonatype/nexus-public/issues/710' }],
      };
    case 'format-plugin-missing':
      return {
        what: `a repository's format plugin is missing${detail === null ? '' : ` (recipe ${detail})`}`,
        explanation:
          'The configuration holds a repository of a format no installed plugin provides ("Missing recipe"): a community format plugin (composer, apk, apt...) was not reinstalled after an upgrade or a new container image, or is not built for this version. The repository manager fails to start, and Nexus with it.',
        confidence: 'high',
        remediation: [
          `Install the plugin that provides ${detail ?? 'the recipe'} in the build made for this Nexus version (deploy/ or the image), then start again; many formats are built into recent Nexus versions.`,
          'If the format is no longer wanted, start the previous version and delete those repositories before upgrading.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 321: Missing recipe after an upgrade', url: 'https://github.com/sonatype/nexus-public/issues/321' }],
      };
    case 'jvm-cannot-reserve-memory':
      return {
        what: 'the JVM could not get its memory from the host',
        explanation:
          'The host or container did not give the JVM the memory its options ask for (os::commit_memory failed, "There is insufficient memory for the Java Runtime Environment to continue"): -Xms/-Xmx and direct memory are larger than what is free.',
        confidence: 'high',
        remediation: [
          'Lower -Xms/-Xmx and -XX:MaxDirectMemorySize in bin/nexus.vmoptions (or INSTALL4J_ADD_VM_PARAMS) to fit the host, or give the host or container more memory.',
        ],
      };
    case 'logging-config-invalid':
      return {
        what: `its logging configuration is invalid${detail === null ? '' : ` (${detail} cannot be created)`}`,
        explanation:
          'Nexus 3.83 and later configure logging before anything else, and a logback configuration that names a class this version does not have (kept from an older installation, or mounted by a Helm chart) stops the start: "Logback configuration error detected".',
        confidence: 'high',
        remediation: [
          'Remove the custom logback files kept from the old installation (etc/logback/*.xml, <data dir>/etc/logback) or regenerate them from this version\'s defaults, then start again.',
          'On Kubernetes, check for a ConfigMap mounted over /opt/sonatype/nexus/etc/logback by the chart (third-party charts do this) and drop or update it.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 708: Logback configuration error after the upgrade to 3.83', url: 'https://github.com/sonatype/nexus-public/issues/708' }],
      };
    case 'license-missing':
      return {
        what: `the licence file ${detail ?? '(.lic)'} does not exist`,
        explanation:
          'Nexus was told to install a Pro licence from a file (nexus.licenseFile, or the license secret of the Helm chart / HA deployment) and the file is not there, so the start fails.',
        confidence: 'high',
        remediation: [
          `Mount or copy the licence at ${detail ?? 'the configured path'} (readable by the user running Nexus), e.g. the Kubernetes secret the chart expects.`,
          'Or, for the Community Edition, remove the licence setting (nexus.licenseFile / the chart\'s license values).',
        ],
      };
    case 'orient-java-too-new':
      return {
        what: `this OrientDB-based Nexus runs on a Java newer than ${detail ?? 'Java 11'}`,
        explanation:
          'The configured database is still OrientDB, and OrientDB supports at most Java 11: the bootstrap refuses to start the web application on a newer Java ("The maximum Java version for OrientDb is Java 11"), so the context is UNAVAILABLE and Nexus serves nothing.',
        confidence: 'high',
        remediation: [
          'Run this Nexus on Java 8 or 11 (INSTALL4J_JAVA_HOME, or app.java.home in bin/nexus.rc; the non-java17 bundle), or',
          'Migrate the OrientDB database to H2 or PostgreSQL first (the database migrator, on Java 8/11), then run on Java 17.',
        ],
      };
    case 'postgresql-refused':
      return {
        what: `PostgreSQL${detail === null ? '' : ` at ${detail}`} refused the connection at start`,
        explanation: 'Nothing accepted the JDBC connection at the host and port of the JDBC URL when Nexus started, so the "nexus" data store could not start: PostgreSQL was down or still starting, listened elsewhere, or a firewall refused.',
        confidence: 'high',
        remediation: [
          `Check that PostgreSQL runs and accepts TCP connections at ${detail ?? 'the host and port of the JDBC URL'} (listen_addresses, port, pg_hba.conf, firewall).`,
          'Start Nexus only after the database is ready (a health-checked depends_on, an init container, a systemd After=/Requires=).',
        ],
      };
    case 'postgresql-auth-failed':
      return {
        what: `PostgreSQL rejected the password of user ${detail ?? 'Nexus uses'}`,
        explanation: 'PostgreSQL answered "password authentication failed", so the data store could not start.',
        confidence: 'high',
        remediation: ['Set the right username and password for the data store (NEXUS_DATASTORE_NEXUS_USERNAME / _PASSWORD, or nexus-store.properties) and start again.'],
      };
    case 'postgresql-database-missing':
      return {
        what: `the PostgreSQL database ${detail ?? ''} does not exist`.replace('  ', ' '),
        explanation: 'The database named in the JDBC URL does not exist on the PostgreSQL server.',
        confidence: 'high',
        remediation: ['Create the database (owned by the Nexus database user) or fix the database name in the JDBC URL, then start again.'],
      };
    case 'jdbc-driver-missing':
      return {
        what: `no JDBC driver accepts the database URL${detail === null ? '' : ` ${detail}`}`,
        explanation:
          'The JVM has no driver for the JDBC URL ("No suitable driver"), so the data store was never created and PostgreSQL was never contacted. ' +
          'Either the URL is not exactly jdbc:postgresql://host:port/database (quotes or spaces inside the value, a typo), or this Nexus edition and version does not ship the PostgreSQL driver.',
        confidence: 'high',
        remediation: [
          'Check the JDBC URL as Nexus received it: exactly jdbc:postgresql://host:5432/nexus, with no quotes inside the value (a YAML folded scalar or an env file can add them).',
          'Check that your edition and version of Nexus supports PostgreSQL; if not, use H2 or a version/edition that does.',
        ],
        references: [
          { title: 'sonatype/nexus-public issue 650: No suitable driver for jdbc:postgresql', url: 'https://github.com/sonatype/nexus-public/issues/650' },
          { title: 'sonatype/nexus-public issue 824: Data store not found with a PostgreSQL URL', url: 'https://github.com/sonatype/nexus-public/issues/824' },
        ],
      };
    case 'jetty-keystore-missing':
      return {
        what: `the Jetty HTTPS keystore ${detail ?? '(.jks)'} is missing`,
        explanation: 'The HTTPS connector (jetty-https.xml) points at a Java keystore file that does not exist, so Jetty cannot start and Nexus does not serve anything.',
        confidence: 'high',
        remediation: [
          `Put the keystore at ${detail ?? 'the path set in jetty-https.xml (ssl.etc, default <data dir>/etc/ssl/keystore.jks)'}, readable by the user running Nexus, or correct the path.`,
          'Or turn HTTPS off in nexus.properties (remove application-port-ssl and ${jetty.etc}/jetty-https.xml from nexus-args) and terminate TLS at a reverse proxy.',
        ],
      };
    case 'jetty-keystore-password':
      return {
        what: 'the Jetty HTTPS keystore cannot be opened with the configured password',
        explanation: 'Jetty read the keystore but "Keystore was tampered with, or password was incorrect": the KeyStorePassword / KeyManagerPassword in jetty-https.xml does not match the keystore.',
        confidence: 'high',
        remediation: ['Set the keystore and key passwords in jetty-https.xml to those of the keystore (check with keytool -list -keystore <file>), then start again.'],
      };
    case 'orient-recovery-failed':
      return {
        what: `OrientDB could not recover database ${detail ?? ''} after an unclean shutdown`.replace('  ', ' '),
        explanation:
          'The previous run ended without closing its OrientDB databases (a kill, an OOM kill, a full disk or a power loss), so OrientDB tried to recover them from the write-ahead log at start, and the start failed.',
        confidence: 'medium',
        remediation: [
          'Stop Nexus and back up the whole db directory as it is.',
          'Restore the damaged database from the last backup (the "Admin - Export databases for backup" task), or repair it with the OrientDB console (export, then import) following Sonatype\'s database repair guide.',
          'Find out why the last run ended uncleanly (the server-run incident before this start) so it does not happen again.',
        ],
      };
    case 'orient-database-damaged':
      return {
        what: `OrientDB database ${detail ?? ''} is damaged`.replace('  ', ' '),
        explanation: `An OrientDB database cannot be opened because one of its files is missing or broken${root === null ? '' : ` (${root})`}. A full disk, a kill during a write, or files changed by hand are the usual causes.`,
        confidence: 'high',
        remediation: [
          'Stop Nexus and back up the whole db directory as it is.',
          'Restore that database from the last backup (the "Admin - Export databases for backup" task), or repair it with the OrientDB console (export, then import) following Sonatype\'s guide.',
          'Check disk space and that nothing else (a second Nexus, a backup tool, the OrientDB console) writes to the db directory.',
        ],
      };
    case 'h2-database-locked':
      return {
        what: `the H2 database ${detail ?? 'nexus.mv.db'} is locked by another process`,
        explanation: 'H2 refused to open the database file because another process holds its lock ("Database may be already in use"): a second Nexus on the same data directory, a leftover process, or the H2 console.',
        confidence: 'high',
        remediation: ['Stop every other process using the data directory (ps, lsof on nexus.mv.db), then start Nexus again.', 'Two containers or pods must never share one data directory.'],
      };
    case 'data-directory-permissions':
      return {
        what: `the user running Nexus cannot write ${detail ?? 'its data directory'}`,
        explanation: 'Nexus must write its data directory (logs, tmp, karaf.pid, db, blobs); the operating system refused (Permission denied), so Nexus exits and a container restarts in a loop.',
        confidence: 'high',
        remediation: [
          `Give the user running Nexus ownership of ${detail ?? 'the data directory'}: in the official image that is uid 200 (chown -R 200:200 /nexus-data); on a host the nexus user (sonatype-work/nexus3).`,
          'On Kubernetes set securityContext fsGroup: 200 (or an init container that chowns the volume); on OpenShift, which runs pods with a random UID, make the volume group-writable for group 0.',
        ],
      };
    case 'temp-directory-unusable':
      return {
        what: `the temp directory ${detail ?? ''} is not usable`.replace('  ', ' '),
        explanation: 'Jetty could not create or use its work directory under java.io.tmpdir ("Bad temp directory"), so the web application never started.',
        confidence: 'high',
        remediation: ['Make java.io.tmpdir (by default <data dir>/tmp, or /tmp) exist and be writable by the user running Nexus, with free space; then start again.'],
        references: [{ title: 'sonatype/docker-nexus issue 73: Bad temp directory', url: 'https://github.com/sonatype/docker-nexus/issues/73' }],
      };
    case 'port-in-use':
      return {
        what: 'its HTTP port is already in use',
        explanation: 'Jetty could not bind its port ("Address already in use"): another process (often another Nexus) listens on it.',
        confidence: 'high',
        remediation: ['Stop the other process (ss -ltnp | grep <port>) or change application-port in etc/nexus.properties.'],
      };
    case 'out-of-memory':
      return {
        what: `the JVM ran out of memory while starting${detail === null ? '' : ` (${detail})`}`,
        explanation: 'An OutOfMemoryError was thrown during start-up, so bundles or components did not start; the container or service then restarts.',
        confidence: 'high',
        remediation: [
          'Give the JVM more heap (-Xms/-Xmx in bin/nexus.vmoptions or INSTALL4J_ADD_VM_PARAMS) and the container or pod enough memory for heap, direct memory and about 1 GB more.',
          '"unable to create new native thread" is a process/thread limit (systemd TasksMax, pids limit), not the heap.',
        ],
      };
    case 'unsupported-jvm':
      return {
        what: `no suitable Java runtime${detail === null ? '' : ` (it must be ${detail})`}`,
        explanation: 'The launcher found no Java runtime of the version this Nexus requires, or the JVM refused an option, so Nexus never started.',
        confidence: 'high',
        remediation: ['Install the Java version this Nexus version requires and point INSTALL4J_JAVA_HOME (or app.java.home in bin/nexus.rc) at it; remove JVM options it does not know.'],
      };
    case 'disk-full':
      return {
        what: 'the disk is full',
        explanation: 'A write at start failed with "No space left on device".',
        confidence: 'high',
        remediation: ['Free space on the data directory volume (old logs, tmp, blob store compaction), then start again.'],
      };
    case 'datastore-not-started':
      return {
        what: `the data store '${detail ?? 'nexus'}' did not start`,
        explanation: 'Nexus could not find its data store because it failed to start earlier in this start; the reason is the first data-store error before this line (a JDBC URL, driver, credentials, or an H2 file problem).',
        confidence: 'medium',
        remediation: ['Read the first ERROR of this start before "Data store not found" (MyBatisDataStore, HikariPool, DataStoreManagerImpl): it names the real cause.'],
        references: [{ title: 'sonatype/nexus-public issue 824', url: 'https://github.com/sonatype/nexus-public/issues/824' }],
      };
    default:
      return {
        what: root ?? 'the exception is not in the log',
        explanation: `Nexus stopped starting${state.phase === null ? '' : ` in phase ${state.phase}`}${root === null ? '' : ` with ${root}`}. The root cause is the last "Caused by" of its stack trace.`,
        confidence: 'low',
        remediation: ['Read the root cause (the last "Caused by:" of the stack in the evidence) and fix it, then start again.'],
      };
  }
}

export const serverStartFailed: Rule<Signal, State> = {
  id: 'server-start-failed',
  title: 'Nexus failed to start',
  severity: 'critical',
  category: 'server',
  reads: [
    { levels: ['ERROR'], loggers: ['NexusContextListener'], literals: [{ text: 'Failed to start nexus', at: 'start' }, { text: 'Failed to initialize context', at: 'start' }], continuation: true },
    { levels: ['ERROR'], loggers: ['JettyServer'], literals: [{ text: 'Start failed', at: 'start' }, { text: 'Failed to start', at: 'start' }], continuation: true },
    { levels: ['ERROR'], loggers: ['BootstrapListener'], literals: [{ text: 'Failed to initialize', at: 'start' }], continuation: true },
    { levels: ['ERROR'], loggers: ['Felix'], literals: [' Error starting '], continuation: true },
    { levels: ['ERROR'], loggers: ['UpgradeManagerImpl'], literals: [{ text: 'Missing migrations: ', at: 'start' }, { text: 'expected schema to be on baseline', at: 'start' }] },
    { levels: ['ERROR'], literals: [{ text: 'Failed transition: NEW -> STARTED', at: 'start' }], continuation: true },
    { levels: ['WARN'], loggers: ['NexusLifecycleManager'], literals: [{ text: 'Problem starting ', at: 'start' }], continuation: true },
    { levels: ['WARN', 'ERROR'], loggers: ['WebAppContext'], literals: [{ text: 'Failed startup of context', at: 'start' }], continuation: true },
    { levels: ['ERROR'], loggers: ['DbMigrate'], literals: [{ text: 'Migration of schema ', at: 'start' }] },
    { levels: ['ERROR'], loggers: ['BootFeaturesInstaller'], literals: [{ text: 'Error installing boot features', at: 'start' }], continuation: true },
    { levels: ['ERROR'], literals: [{ text: 'FrameworkEvent ERROR', at: 'start' }], continuation: true },
    { levels: ['ERROR', 'WARN'], loggers: ['MyBatisDataStore'], literals: ['using a legacy Orient database'], continuation: true },
    { levels: ['WARN'], literals: ['was not closed properly'] },
    { levels: ['ERROR', 'WARN'], literals: ['Failed to get driver instance for jdbcUrl', 'No suitable driver', 'Exception during pool initialization'], continuation: true },
    // Launcher and Guice output: read from loose text only (matchLauncher).
    { levels: ['ERROR'], literals: [...LAUNCHER_FAILURES, ...GUICE_FAILURES] },
  ],
  windowMs: 30 * 60_000,
  causedBy: [
    { rule: 'jvm-out-of-memory', withinMs: 10 * 60_000 },
    { rule: 'disk-full', withinMs: 6 * 60 * 60_000 },
    { rule: 'database-corrupted', withinMs: 60 * 60_000 },
    { rule: 'database-cannot-open', withinMs: 60 * 60_000 },
    { rule: 'database-connection-refused', withinMs: 60 * 60_000 },
  ],

  match(event: AnyEvent) {
    if (event.kind !== 'nexus') return undefined;
    return matchEvent(event);
  },

  key(_signal, event) {
    return event.kind === 'nexus' ? (event.node ?? '') : '';
  },

  open(_signal, event) {
    return { node: event.kind === 'nexus' ? event.node : null, attempts: 0, lastFatalAt: null, firstFatal: null, phase: null, cause: null, root: null, recovery: false };
  },

  add(state, s, event) {
    if (s.fatal) {
      if (state.lastFatalAt === null || event.time - state.lastFatalAt > SAME_ATTEMPT_MS) state.attempts++;
      state.lastFatalAt = event.time;
      state.firstFatal ??= s.what;
    }
    if (s.phase !== null) state.phase ??= s.phase;
    if (s.texts.some((t) => t.includes('was not closed properly'))) state.recovery = true;
    const found = classifyStartFailure(s.texts);
    if (found !== null && better(found, state.cause)) state.cause = found;
    // A damaged OrientDB after a recovery attempt: the unclean shutdown is the story.
    if (state.recovery && state.cause?.cause === 'orient-database-damaged') state.cause = { cause: 'orient-recovery-failed', detail: state.cause.detail };
    if (s.root !== null && (state.root === null || s.fatal)) state.root = s.root;
  },

  describe(state, group) {
    if (state.attempts === 0) return null;
    const found = state.cause?.cause === 'orient-recovery-failed' && !state.recovery ? { cause: 'orient-database-damaged' as const, detail: state.cause.detail } : state.cause;
    const e = explain(found, state);
    const attempts = state.attempts > 1 ? ` (${plural(state.attempts, 'attempt')})` : '';
    const node = state.node === null ? '' : ` on node ${state.node}`;
    const how = found === null && state.firstFatal !== null ? ` (${state.firstFatal})` : '';
    const summary = `Nexus failed to start${node}${attempts}${how}: ${e.what}.`;
    const exceptions = state.root === null ? [] : exceptionsOf([state.root]);
    return {
      subject: subjectOrServer({ ...state, cause: found }),
      fingerprint: [found?.cause ?? 'start-exception', state.node],
      summary,
      facts: {
        cause: found?.cause ?? 'start-exception',
        ...(found?.detail == null ? {} : { detail: found.detail }),
        'failed with': state.firstFatal,
        ...(state.phase === null ? {} : { phase: state.phase }),
        ...(exceptions.length === 0 ? {} : { 'root cause': shortException(exceptions[0] as string, 300) }),
        attempts: state.attempts,
        ...(group.runs > 1 ? { runs: group.runs } : {}),
      },
      diagnosis: {
        cause: found?.cause ?? 'start-exception',
        explanation: e.explanation,
        confidence: e.confidence,
        remediation: e.remediation,
        ...(e.references === undefined ? {} : { references: e.references }),
      },
    } satisfies Finding;
  },
};
