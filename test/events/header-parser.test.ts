import { parseHeader } from '../../src/events/header-parser';

const LOGGER = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';

describe('parseHeader', () => {
  it('parses the file layout with an empty %node (two spaces before the user)', () => {
    const header = parseHeader(`2025-09-10 01:36:22,857+0000 INFO  [quartz-10-thread-6]  *SYSTEM ${LOGGER} - Task done`);
    expect(header).toEqual({
      epochMs: Date.UTC(2025, 8, 10, 1, 36, 22, 857),
      timestampText: '2025-09-10 01:36:22,857+0000',
      level: 'INFO',
      thread: 'quartz-10-thread-6',
      node: null,
      user: '*SYSTEM',
      logger: LOGGER,
      message: 'Task done',
    });
  });

  it('parses the HA layout with a node name', () => {
    const header = parseHeader(`2025-09-10 01:36:22,857+0000 WARN  [qtp1-5] node-b deployer ${LOGGER} - Error: x`);
    expect([header?.node, header?.user, header?.logger, header?.message]).toEqual(['node-b', 'deployer', LOGGER, 'Error: x']);
  });

  it('parses the console layout (no %node, one space) and collapsed spaces from pasted excerpts', () => {
    for (const line of [
      `2025-09-10 01:36:22,857+0000 ERROR [qtp226372090-117] llm ${LOGGER} - msg`,
      `2025-09-10 01:36:22,857+0000 WARN [qtp226372090-117] llm ${LOGGER} - msg`,
      `2025-09-10 01:36:22,857+0000   ERROR\t[qtp226372090-117]    llm   ${LOGGER} - msg`,
    ]) {
      const header = parseHeader(line);
      expect([header?.thread, header?.node, header?.user, header?.logger, header?.message]).toEqual(['qtp226372090-117', null, 'llm', LOGGER, 'msg']);
    }
  });

  it('keeps thread names with spaces and nested brackets whole', () => {
    const names = ['SIGTERM handler', 'Check Status: blobstore default', 'elasticsearch[C5E1E0C5-2FB0B2A4][generic][T#1]', '[weird]'];
    for (const name of names) {
      const header = parseHeader(`2025-09-10 01:36:22,857+0000 INFO  [${name}]  *SYSTEM org.x.Y - hello [there]`);
      expect(header?.thread).toBe(name);
      expect(header?.message).toBe('hello [there]');
    }
  });

  it('falls back to the first "] " when a thread name has an unbalanced bracket', () => {
    const header = parseHeader('2025-09-10 01:36:22,857+0000 INFO  [pool-[3]  *SYSTEM org.x.Y - hello');
    expect([header?.thread, header?.user, header?.message]).toEqual(['pool-[3', '*SYSTEM', 'hello']);
  });

  it('keeps " - " inside the message', () => {
    const header = parseHeader(`2025-09-10 01:36:22,857+0000 WARN  [qtp1-5]  anonymous ${LOGGER} - Error: PUT /v2/a/manifests/b: 400 - oops - more`);
    expect(header?.message).toBe('Error: PUT /v2/a/manifests/b: 400 - oops - more');
  });

  it('accepts an empty message and a layout with no user', () => {
    expect(parseHeader('2025-09-10 01:36:22,857+0000 INFO  [main]  *SYSTEM org.x.Y - ')?.message).toBe('');
    const noUser = parseHeader('2025-09-10 01:36:22,857+0000 INFO  [main] org.x.Y - hi');
    expect([noUser?.user, noUser?.logger, noUser?.message]).toEqual([null, 'org.x.Y', 'hi']);
  });

  it('returns undefined for lines that are not Nexus headers', () => {
    for (const line of [
      '',
      'just text',
      '\tat org.x.Y.z(Y.java:1)',
      '2025-09-10 01:36:22,857+0000',
      '2025-09-10 01:36:22,857+0000 INFO  no-thread org.x.Y - m',
      '2025-09-10 01:36:22,857+0000 INFO  [unclosed org.x.Y - m',
      '2025-09-10 01:36:22,857+0000 INFO  [t]  *SYSTEM org.x.Y no separator',
    ]) {
      expect(parseHeader(line)).toBeUndefined();
    }
  });
});
