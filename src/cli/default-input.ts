/**
 * With no path and a terminal on stdin, the CLI looks where Nexus keeps its logs, in this
 * order: $NEXUS_DATA/log, /nexus-data/log (containers), ./sonatype-work/nexus3/log (hosts).
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export function defaultLogFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const folders: string[] = [];
  if (env.NEXUS_DATA !== undefined && env.NEXUS_DATA !== '') folders.push(path.join(env.NEXUS_DATA, 'log'));
  folders.push('/nexus-data/log', path.join('sonatype-work', 'nexus3', 'log'));
  return folders;
}

/** The first usual folder that holds a nexus*.log* file, or undefined. */
export function findDefaultLogFolder(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return defaultLogFolders(env).find((folder) => {
    try {
      return statSync(folder).isDirectory() && readdirSync(folder).some((name) => /^nexus.*\.log/.test(name));
    } catch {
      return false;
    }
  });
}
