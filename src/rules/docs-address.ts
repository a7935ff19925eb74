/**
 * Where a rule's page can be read: the copy installed with the package when it is there (a
 * file the user has), else the published one for this version. Never a repository-relative
 * path that an npm user does not have.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

let version: string | undefined;

/** The package version, read once. */
export function packageVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      version = 'latest';
    }
  }
  return version;
}

/** The published address of a file of the package (docs ship in it), pinned to this version. */
export function publishedAddress(file: string): string {
  return `https://unpkg.com/nexus-log-analyzer@${packageVersion()}/${file}`;
}

/** A rule page's published address. Stable across machines: it goes into incidents. */
export function docsAddress(page: string): string {
  return publishedAddress(`docs/rules/${page}`);
}

/** The installed copy of a package file, when it exists (for messages on this machine). */
export function installedPath(file: string): string | null {
  const full = path.join(PACKAGE_ROOT, file);
  return existsSync(full) ? full : null;
}
