/** Connecting for the CLI (abortable, saying when NATS is not there yet) and telling the operator about disconnects. */
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats as connectWaiting, errorText } from './nats';

export { errorText };

/** Connects; says so once when NATS is not reachable within 2 s; null when `signal` aborts first. */
export async function connectNats(url: string, name: string, signal: AbortSignal, warn: (message: string) => void): Promise<NatsConnection | null> {
  const connecting = connectWaiting(url, name);
  const slow = setTimeout(() => warn(`waiting for NATS at ${url}`), 2000);
  const aborted = new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));
  try {
    const nc = await Promise.race([connecting, aborted]);
    if (nc === null) connecting.then((late) => late.close(), () => undefined);
    return nc;
  } finally {
    clearTimeout(slow);
  }
}

/** Says on stderr when the connection drops and comes back. */
export function watchConnection(nc: NatsConnection, say: (level: 'info' | 'warn', message: string) => void): { stop: () => void } {
  let stopped = false;
  void (async () => {
    for await (const status of nc.status()) {
      if (stopped) break;
      if (status.type === 'disconnect') say('warn', `NATS disconnected (${status.server}); reconnecting`);
      else if (status.type === 'reconnect') say('info', `NATS reconnected (${status.server})`);
    }
  })().catch(() => undefined);
  return {
    stop: () => {
      stopped = true;
    },
  };
}
