/**
 * NATS connection and stream set-up shared by the edge and the central: one connection that
 * reconnects for ever (an outage is waited out, not fatal), and the incident stream created
 * when absent.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { SUBJECT_PREFIX } from './names';

export interface StreamSettings {
  name: string;
  /** How long records are kept. Default 7 days. */
  maxAgeMs?: number;
  /** Window in which the server drops a republished message id. Default 10 min. */
  duplicateWindowMs?: number;
  /** Bytes kept at most (oldest records dropped first). Default: no limit. */
  maxBytes?: number;
}

export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** `nats://host:4222`, or several separated by commas (a cluster). */
export function natsServers(url: string): string[] {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new RangeError(`no NATS server in '${url}'`);
  for (const server of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server) && !/^[^\s/:]+:\d+$/.test(server)) {
      throw new RangeError(`'${server}' is not a NATS server address (nats://host:port)`);
    }
  }
  return servers;
}

/**
 * Connects, waiting for a server that is not up yet (`waitOnFirstConnect`), and reconnects for
 * ever afterwards: requests made meanwhile fail by their timeout, and the caller retries.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: natsServers(url),
    name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    // A dead server is noticed within a few seconds, not the default two minutes.
    pingInterval: 5000,
    maxPingOut: 2,
  });
}

/** The incident stream: created when absent with these settings; an existing one is used as it is. */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(settings.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    return await jsm.streams.add({
      name: settings.name,
      subjects: [`${SUBJECT_PREFIX}.>`],
      max_age: nanos(settings.maxAgeMs ?? DEFAULT_MAX_AGE_MS),
      duplicate_window: nanos(settings.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
      ...(settings.maxBytes === undefined ? {} : { max_bytes: settings.maxBytes }),
    });
  } catch (error) {
    // Another edge created it in between.
    return jsm.streams.info(settings.name).catch(() => Promise.reject(error));
  }
}

export async function managerOf(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}

export function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.status === 404 || /not found/i.test(error.message));
}

/** KV update refused because another writer got there first. */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 10071 || /wrong last sequence/i.test(error.message));
}

function nanos(ms: number): number {
  return ms * 1_000_000;
}

/** One line for a person: the error's message, without a stack. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
