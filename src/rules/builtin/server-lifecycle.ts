/**
 * What Nexus says about itself at start and stop (shared reference nexus-catalogue.md, LC-1 to
 * LC-6): its version and edition in their several spellings, the JVM uptime it prints when it
 * stops, and times for summaries. Used by `server-run` and `server-start-failed`.
 */

/**
 * `3.38.1.01` (a feature or bundle version) -> `3.38.1-01`; a version already in the
 * `3.38.1-01` form is kept. Null when it does not look like a Nexus version.
 */
export function nexusVersion(text: string): string | null {
  const version = text.trim();
  if (!/^\d+\.\d+\.\d+(?:[.-]\d+)?$/.test(version)) return null;
  const parts = version.split(/[.-]/);
  return parts.length === 4 ? `${parts[0]}.${parts[1]}.${parts[2]}-${parts[3]}` : version;
}

/** `nexus-oss-edition`, `oss-edition`, `org.sonatype.nexus.oss-edition` -> `OSS`; `nexus-pro-starter-edition` -> `PRO STARTER`. */
export function editionOfFeature(name: string): string | null {
  let base = name.slice(name.lastIndexOf('.') + 1);
  if (!base.endsWith('-edition')) return null;
  base = base.slice(0, -'-edition'.length);
  if (base.startsWith('nexus-')) base = base.slice('nexus-'.length);
  return base === '' ? null : base.replace(/-/g, ' ').toUpperCase();
}

/** `nexus-oss-edition/3.38.1.01` -> edition and version (Uptime and Installing lines). */
export function parseEditionFeature(text: string): { edition: string | null; version: string | null } {
  const slash = text.indexOf('/');
  if (slash === -1) return { edition: editionOfFeature(text.trim()), version: null };
  return { edition: editionOfFeature(text.slice(0, slash).trim()), version: nexusVersion(text.slice(slash + 1)) };
}

const PERIOD_UNITS: Record<string, number> = {
  year: 365 * 86_400_000,
  month: 30 * 86_400_000,
  week: 7 * 86_400_000,
  day: 86_400_000,
  hour: 3_600_000,
  minute: 60_000,
  second: 1000,
  millisecond: 1,
};

/**
 * The JVM uptime Nexus logs at stop (`Uptime: {period} ({edition})`, Joda's English period
 * format): `2 hours, 42 minutes, 5 seconds and 12 milliseconds` -> ms; null when unreadable.
 */
export function parseUptime(text: string): number | null {
  const parts = text.split(/, | and /);
  let total = 0;
  let any = false;
  for (const part of parts) {
    const words = part.trim().split(' ');
    if (words.length !== 2) return null;
    const count = Number(words[0]);
    const unit = (words[1] as string).endsWith('s') ? (words[1] as string).slice(0, -1) : (words[1] as string);
    const ms = PERIOD_UNITS[unit];
    if (!Number.isFinite(count) || ms === undefined) return null;
    total += count * ms;
    any = true;
  }
  return any ? total : null;
}

/** `Nexus 3.77.1-01 OSS`, `Nexus 3.77.1-01`, or `Nexus`. */
export function nexusLabel(version: string | null, edition: string | null): string {
  return ['Nexus', version, edition].filter((part) => part !== null && part !== '').join(' ');
}

/** `01:02` (UTC) when on the same UTC day as `reference`, else `2025-09-11 01:02`. */
export function clockTime(ms: number, reference: number = ms): string {
  if (!Number.isFinite(ms)) return 'an unknown time'; // lines with no time (loose text)
  if (!Number.isFinite(reference)) reference = ms;
  const iso = new Date(ms).toISOString();
  const sameDay = iso.slice(0, 10) === new Date(reference).toISOString().slice(0, 10);
  return sameDay ? iso.slice(11, 16) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** `2025-09-10 01:02:03 UTC`, for facts. */
export function fullTime(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown (the lines carry no time)';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * `FrameworkEvent ERROR` with `Activator start error in bundle <name>` for a core bundle (the Nexus
 * bootstrap of the 3.0 era, or Karaf's own features service broken by a JVM agent): the bundle's
 * name, or null. `message` is the event's message, `continuation` its exception lines.
 */
export function coreBundleActivationFailure(message: string, continuation: readonly string[]): string | null {
  if (!message.trim().startsWith('FrameworkEvent ERROR')) return null;
  const failed = continuation.find((line) => line.includes('Activator start error in bundle org.sonatype.nexus') || line.includes('Activator start error in bundle org.apache.karaf'));
  if (failed === undefined) return null;
  return failed.slice(failed.indexOf('in bundle ') + 'in bundle '.length).split(' ')[0] ?? 'a core bundle';
}
