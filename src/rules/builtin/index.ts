/**
 * The built-in rule catalogue, every rule on by default. Adding a rule: one module here, one
 * page in docs/rules/, tests, and one line in REGISTRY: docs/rules/writing-a-rule.md.
 * (Team note while rules are being added in parallel: edit only your own rule files and your
 * REGISTRY line; commit with `git commit -- <your files>`; run only your own tests.)
 */
import type { AnyRule } from '../rule';
import { blobstoreMissingBlob } from './blobstore-missing-blob';
import { dockerManifestMissingLayers } from './docker-manifest-missing-layers';
import { dockerManifestNpeProvenance } from './docker-manifest-npe-provenance';
import { proxyAutoBlocked } from './proxy-auto-blocked';
import { proxyConditionalGetIgnored } from './proxy-conditional-get-ignored';
import { proxyRemoteUnavailable } from './proxy-remote-unavailable';
// JVM, disk and database rules
import { databaseCannotOpen } from './database-cannot-open';
import { databaseConnectionRefused } from './database-connection-refused';
import { databaseCorrupted } from './database-corrupted';
import { databasePoolExhausted } from './database-pool-exhausted';
import { databaseReadOnly } from './database-read-only';
import { diskFull } from './disk-full';
import { jvmHeapPressure } from './jvm-heap-pressure';
import { jvmOutOfMemory } from './jvm-out-of-memory';
import { openFileLimitLow } from './open-file-limit-low';
import { searchIndexUnhealthy } from './search-index-unhealthy';
// Blob store, Docker upload and request rules
import { blobstoreQuotaExceeded } from './blobstore-quota-exceeded';
import { blobstoreWriteFailed } from './blobstore-write-failed';
import { dockerBlobUploadRejected } from './docker-blob-upload-rejected';
import { requestErrors } from './request-errors';
import { requestFailed } from './request-failed';
// Server runs, start failures, tasks and security rules
import { authenticationFailures } from './authentication-failures';
import { ldapConnectionFailed } from './ldap-connection-failed';
import { serverRun } from './server-run';
import { serverStartFailed } from './server-start-failed';
import { taskFailed } from './task-failed';

export interface BuiltinRuleOptions {
  /** Correlation window in log time for rules that pair the lines of one request (the Docker push). */
  windowMs?: number;
  /** Rules to leave out, by id. An unknown id is an error (a typo would silently do nothing). */
  disabled?: readonly string[];
}

type RuleFactory = (options: BuiltinRuleOptions) => AnyRule;

/** One line per rule, in the order `--list-rules` shows them. */
const REGISTRY: readonly RuleFactory[] = [
  (o) => dockerManifestMissingLayers(o.windowMs === undefined ? {} : { windowMs: o.windowMs }),
  () => dockerManifestNpeProvenance,
  () => blobstoreMissingBlob,
  () => proxyRemoteUnavailable,
  () => proxyAutoBlocked,
  () => proxyConditionalGetIgnored,
  () => blobstoreWriteFailed,
  () => blobstoreQuotaExceeded,
  () => dockerBlobUploadRejected,
  () => requestFailed,
  () => requestErrors,
  () => jvmOutOfMemory,
  () => jvmHeapPressure,
  () => openFileLimitLow,
  () => diskFull,
  () => databaseReadOnly,
  () => databaseCannotOpen,
  () => databaseCorrupted,
  () => databasePoolExhausted,
  () => databaseConnectionRefused,
  () => searchIndexUnhealthy,
  () => serverRun,
  () => serverStartFailed,
  () => taskFailed,
  () => ldapConnectionFailed,
  () => authenticationFailures,
];

/** Every built-in rule, as configured. */
export function allBuiltinRules(options: Omit<BuiltinRuleOptions, 'disabled'> = {}): AnyRule[] {
  return REGISTRY.map((make) => make(options));
}

/** The ids of the built-in rules. */
export function builtinRuleIds(): string[] {
  return allBuiltinRules().map((rule) => rule.id);
}

/** The built-in catalogue less the disabled rules. */
export function builtinRules(options: BuiltinRuleOptions = {}): AnyRule[] {
  const all = allBuiltinRules(options);
  const disabled = options.disabled ?? [];
  for (const id of disabled) {
    if (!all.some((rule) => rule.id === id)) throw new RangeError(`no built-in rule '${id}' (there are: ${all.map((rule) => rule.id).join(', ')})`);
  }
  return all.filter((rule) => !disabled.includes(rule.id));
}
