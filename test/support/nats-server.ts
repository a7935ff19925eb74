/**
 * A real nats-server with JetStream for the fleet tests: started on a free loopback port with a
 * temporary store directory, ready once it says so on its log (no fixed sleeps), restartable on
 * the same port and store (to test an outage), and stopped by the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where Debian puts it (/usr/sbin is not on every PATH), else the PATH. */
export function natsServerBinary(): string | null {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : null;
}

/** `describe` or `describe.skip` with a visible reason: the fleet tests need the real server. */
export function describeWithNats(name: string, body: () => void): void {
  if (natsServerBinary() === null) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED ${name}: nats-server is not installed (apt-get install -y nats-server; .ci/run does it as root)`);
    describe.skip(name, body);
  } else describe(name, body);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class NatsServer {
  readonly storeDir: string;
  port = 0;
  private child: ChildProcess | null = null;
  log = '';

  private constructor(private readonly binary: string) {
    this.storeDir = mkdtempSync(path.join(os.tmpdir(), 'nla-nats-'));
  }

  /** Starts one on a free port; retries a few ports if one is taken in between. */
  static async start(timeoutMs = 30_000): Promise<NatsServer> {
    const binary = natsServerBinary();
    if (binary === null) throw new Error('nats-server is not installed');
    const server = new NatsServer(binary);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      server.port = await freePort();
      try {
        await server.launch(timeoutMs);
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    server.cleanup();
    throw lastError;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts it again on the same port and store (after `stop`). */
  async restart(timeoutMs = 30_000): Promise<void> {
    await this.stop();
    // The port may linger a moment in the kernel; launch retries until the overall timeout.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.launch(Math.max(1000, deadline - Date.now()));
        return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Stops it (SIGTERM, then SIGKILL after 10 s) and waits for the process to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Stops it and removes the store. */
  async close(): Promise<void> {
    await this.stop();
    this.cleanup();
  }

  private cleanup(): void {
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private launch(timeoutMs: number): Promise<void> {
    const child = spawn(this.binary, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      let seen = '';
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        if (this.child === child) this.child = null;
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`nats-server not ready within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        this.log += text;
        if (seen.length < 20_000) seen += text;
        // Its own word that JetStream is up and the client port accepts connections.
        if (/Server is ready/.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        fail(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${seen}`));
      });
    });
  }
}
