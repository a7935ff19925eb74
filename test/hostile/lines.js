'use strict';
/**
 * Log lines for the hostile scenarios, in the layout Nexus writes by default
 * (`%d{yyyy-MM-dd HH:mm:ss,SSSZ} %-5p [%thread] %node %X{userId} %c - %m%n`), and the pushes
 * they make: a push is N missing-layer ERRORs then the 400 WARN on one request thread.
 * Expectations are read from what was written (`expectedPush`), never from the tool's output.
 */

const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const INFO_LOGGER = 'org.sonatype.nexus.internal.app.ApplicationVersionSupport';
const PUSH_RULE = 'docker-manifest-missing-layers';

/** 2025-09-10 01:00:00 UTC: log time 0 of every scenario. */
const BASE_MS = Date.UTC(2025, 8, 10, 1, 0, 0);

/**
 * A timestamp `ms` after the base: `2025-09-10 01:00:00,000+0000` by default; `sep: 'T'`,
 * `frac: '.'`, `offset: ''` (none), `'Z'`, `'+02:00'` give the variants.
 */
function ts(ms, { sep = ' ', frac = ',', offset = '+0000', epochMs } = {}) {
  const iso = new Date(epochMs ?? BASE_MS + ms).toISOString(); // 2025-09-10T01:00:00.000Z
  return `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}${frac}${iso.slice(20, 23)}${offset}`;
}

/** The 64-hex digest of layer `n` of push `push`. */
function digest(push, n) {
  return `sha256:${push.toString(16).padStart(32, '0')}${n.toString(16).padStart(32, '0')}`;
}

/** The part before the message; `level` is padded like `%-5p` unless `pad` says otherwise. */
function header(stamp, level, thread, logger, { user = 'ci', pad = (l) => l.padEnd(5) } = {}) {
  return `${stamp} ${pad(level)} [${thread}]  ${user} ${logger}`;
}

function missingLayerLine(stamp, thread, image, tag, layerDigest, { tail = '', ...o } = {}) {
  return (
    `${header(stamp, 'ERROR', thread, DS, o)} - Manifest refers to missing layer: ${layerDigest} for: ${image}/${tag} ` +
    `in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}${tail}`
  );
}

/** A missing-layer line padded with `fill` to exactly `chars` characters (no newline). */
function longMissingLayer(ms, thread, image, tag, layerDigest, chars, fill = 'x') {
  const head = missingLayerLine(ts(ms), thread, image, tag, layerDigest, { tail: ' ' });
  return head + fill.repeat(Math.ceil((chars - head.length) / fill.length)).slice(0, chars - head.length);
}

function rejectionLine(stamp, thread, image, tag, o = {}) {
  return `${header(stamp, 'WARN', thread, V2, o)} - Error: PUT /v2/${image}/manifests/${tag}: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`;
}

function infoLine(stamp, thread, message, o = {}) {
  return `${header(stamp, 'INFO', thread, INFO_LOGGER, o)} - ${message}`;
}

/**
 * One whole push: `layers` missing-layer lines 1 ms apart from `ms`, then the 400. `stamp`
 * formats a time (default: `ts`). Returns its lines and what it must become.
 */
function push(id, ms, { layers = 2, thread = `qtp1-${id}`, stamp = (t) => ts(t), rejected = true, ...o } = {}) {
  const image = `team/app${id}`;
  const tag = `1.${id}`;
  const lines = [];
  for (let n = 0; n < layers; n++) lines.push(missingLayerLine(stamp(ms + n), thread, image, tag, digest(id, n), o));
  if (rejected) lines.push(rejectionLine(stamp(ms + layers + 5), thread, image, tag, o));
  return { lines, expected: { image, tag, layers, rejected } };
}

/** Parses the CLI's ndjson stdout (lines that are not JSON are skipped). */
function parseIncidents(lines) {
  const out = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line cut by a kill: not an incident
    }
  }
  return out;
}

/** Closed push incidents by `image:tag`. */
function pushesFound(incidents) {
  const found = new Map();
  for (const incident of incidents) {
    if (incident.rule !== PUSH_RULE || incident.lifecycle !== 'closed') continue;
    const key = `${incident.image}:${incident.reference}`;
    const list = found.get(key) ?? [];
    list.push(incident);
    found.set(key, list);
  }
  return found;
}

/**
 * Null when every expected push is exactly one incident with all its layers (and its 400 when
 * one was written); else what differs, e.g. `3 of 200 pushes missing (team/app7:1.7, ...)`.
 * `closeReason`: the reason each must have (default: `matched` when rejected).
 */
function checkPushes(incidents, expectedList, { closeReason } = {}) {
  const found = pushesFound(incidents);
  const missing = [];
  const split = [];
  const wrong = [];
  for (const e of expectedList) {
    const key = `${e.image}:${e.tag}`;
    const list = found.get(key);
    if (list === undefined) {
      missing.push(key);
      continue;
    }
    if (list.length > 1) {
      split.push(`${key} x${list.length} (${list.map((i) => i.closeReason).join('+')})`);
      continue;
    }
    const incident = list[0];
    const want = closeReason ?? (e.rejected ? 'matched' : undefined);
    const layers = (incident.missingLayers ?? []).length;
    if (layers !== e.layers) wrong.push(`${key}: ${layers} of ${e.layers} layers`);
    else if (e.rejected && incident.request === null) wrong.push(`${key}: no 400`);
    else if (want !== undefined && incident.closeReason !== want) wrong.push(`${key}: closeReason ${incident.closeReason}, not ${want}`);
  }
  const total = expectedList.length;
  const problems = [];
  const sample = (list) => list.slice(0, 3).join(', ') + (list.length > 3 ? ', ...' : '');
  if (missing.length > 0) problems.push(`${missing.length} of ${total} pushes missing (${sample(missing)})`);
  if (split.length > 0) problems.push(`${split.length} split (${sample(split)})`);
  if (wrong.length > 0) problems.push(`${wrong.length} wrong (${sample(wrong)})`);
  return problems.length === 0 ? null : problems.join('; ');
}

module.exports = {
  BASE_MS,
  DS,
  V2,
  PUSH_RULE,
  ts,
  digest,
  header,
  missingLayerLine,
  longMissingLayer,
  rejectionLine,
  infoLine,
  push,
  parseIncidents,
  pushesFound,
  checkPushes,
};
