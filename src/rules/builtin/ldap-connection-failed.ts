/**
 * Rule `ldap-connection-failed`: Nexus cannot connect to (or bind to) an LDAP server. One
 * incident per LDAP server while it goes on (an hour without a new failure ends it), classified
 * by why: the server cannot be reached, TLS trust (ldaps with a certificate Nexus does not
 * trust), or the bind credentials (shared reference nexus-catalogue.md, SEC-4).
 *
 *   ExtDirectExceptionHandler ERROR Failed to invoke action method: ldap_LdapServer.verifyConnection, java-method: ...LdapServerComponent.verifyConnection
 *     java.lang.Exception: Failed to connect to LDAP Server. Please check the ldap01:389 and authentication are correct.   (SEC-4, the UI's "Verify connection")
 *     [Caused by: javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.ConnectException: Connection refused]]
 *   <any> WARN/ERROR ... javax.naming.CommunicationException: simple bind failed: ldap.example.com:636 [Root exception is javax.net.ssl.SSLHandshakeException: PKIX path building failed ...]
 *   <any> WARN/ERROR ... javax.naming.AuthenticationException: [LDAP: error code 49 - 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v2580]
 *
 * The texts Nexus logs for LDAP failures at login are not confirmed (the LDAP plugin is closed
 * source): those lines are read by their JNDI exception texts, in an LDAP context (an LDAP
 * logger, or the text names LDAP), wherever they are.
 */
import type { AnyEvent } from '../../events/log-event';
import type { Finding, Rule } from '../rule';
import { rootCause, shortException, textsOf } from './exception-lines';
import { howOften } from './wording';

export type LdapFailureKind = 'unreachable' | 'dns' | 'timeout' | 'tls-untrusted' | 'tls-hostname' | 'tls-handshake' | 'bind-rejected' | 'unknown';

interface Signal {
  server: string | null;
  kind: LdapFailureKind;
  /** AD sub-code of an error 49 (`data 52e`), when given. */
  adCode: string | null;
  verify: boolean;
  root: string | null;
}

interface State {
  server: string | null;
  kind: LdapFailureKind;
  adCode: string | null;
  verifies: number;
  logins: number;
  root: string | null;
  users: string[];
}

const VERIFY = 'ldap_LdapServer.';
const VERIFY_CONNECTION = 'ldap_LdapServer.verify';
const GENERIC = 'Failed to connect to LDAP Server';
const LITERALS = [VERIFY, GENERIC, 'javax.naming.CommunicationException', 'javax.naming.AuthenticationException', 'javax.naming.ServiceUnavailableException', 'LDAP: error code'];

/** Most telling first: a specific cause seen once beats `unknown`. */
const RANK: readonly LdapFailureKind[] = ['tls-untrusted', 'tls-hostname', 'bind-rejected', 'dns', 'timeout', 'unreachable', 'tls-handshake', 'unknown'];

/** `host:port` after `prefix` (up to a space, `[`, `]`, `,` or the end; a final `.` dropped). */
function hostPortAfter(text: string, prefix: string): string | null {
  const at = text.indexOf(prefix);
  if (at === -1) return null;
  let end = at + prefix.length;
  while (end < text.length && text[end] !== ' ' && text[end] !== '[' && text[end] !== ',' && text[end] !== ']') end++;
  const value = text.slice(at + prefix.length, end).replace(/\.$/, '');
  return value === '' ? null : value;
}

/** The LDAP server a text names: `Please check the host:port`, `CommunicationException: host:port`, `simple bind failed: host:port`, an ldap(s):// URL. */
export function ldapServerOf(texts: readonly string[]): string | null {
  for (const text of texts) {
    const check = hostPortAfter(text, 'Please check the ');
    if (check !== null && check !== 'and') return check;
  }
  for (const text of texts) {
    const bind = hostPortAfter(text, 'simple bind failed: ');
    if (bind !== null) return bind;
    const comm = hostPortAfter(text, 'CommunicationException: ');
    if (comm !== null && comm.includes(':') && !comm.startsWith('[')) return comm;
    for (const scheme of ['ldaps://', 'ldap://']) {
      const url = hostPortAfter(text, scheme);
      if (url !== null) return url.replace(/\/.*$/, '');
    }
  }
  return null;
}

/** Why, from the texts of one event. */
export function classifyLdapFailure(texts: readonly string[]): { kind: LdapFailureKind; adCode: string | null } {
  const all = texts.join('\n');
  const has = (needle: string): boolean => all.includes(needle);
  let adCode: string | null = null;
  const data = all.indexOf(', data ');
  if (data !== -1) adCode = all.slice(data + 7, data + 10);
  if (has('PKIX path building failed') || has('unable to find valid certification path') || has('certificate_unknown') || has('ValidatorException')) return { kind: 'tls-untrusted', adCode: null };
  if (has('No subject alternative') || has("doesn't match any of the subject alternative names")) return { kind: 'tls-hostname', adCode: null };
  if (has('LDAP: error code 49') || has('Invalid Credentials') || has('javax.naming.AuthenticationException')) return { kind: 'bind-rejected', adCode };
  if (has('UnknownHostException')) return { kind: 'dns', adCode: null };
  if (has('connect timed out') || has('Connection timed out') || has('SocketTimeoutException') || has('timeout')) return { kind: 'timeout', adCode: null };
  if (has('Connection refused') || has('No route to host') || has('ConnectException') || has('ServiceUnavailableException') || has('Network is unreachable')) return { kind: 'unreachable', adCode: null };
  if (has('SSLHandshakeException') || has('SSLException') || has('handshake')) return { kind: 'tls-handshake', adCode: null };
  return { kind: 'unknown', adCode: null };
}

const AD_CODES: Record<string, string> = {
  '525': 'user not found',
  '52e': 'invalid credentials',
  '530': 'not permitted to log on at this time',
  '531': 'not permitted to log on at this workstation',
  '532': 'password expired',
  '533': 'account disabled',
  '701': 'account expired',
  '773': 'user must reset password',
  '775': 'account locked out',
};

function isLdapContext(event: AnyEvent, texts: readonly string[]): boolean {
  if (event.kind !== 'nexus') return false;
  const logger = event.logger.toLowerCase();
  if (logger.includes('.ldap.') || logger.includes('ldap')) return true;
  return texts.some((t) => t.includes('LDAP') || t.includes('ldap://') || t.includes('ldaps://') || t.includes('LdapCtx') || t.includes('ldap_LdapServer'));
}

export const ldapConnectionFailed: Rule<Signal, State> = {
  id: 'ldap-connection-failed',
  title: 'LDAP server unreachable, untrusted or rejecting the bind',
  severity: 'error',
  category: 'security',
  reads: [{ levels: ['ERROR', 'WARN'], literals: LITERALS, continuation: true }],
  windowMs: 60 * 60_000,

  match(event) {
    if (event.kind !== 'nexus') return undefined;
    const texts = textsOf(event);
    const verify = event.message.includes(VERIFY_CONNECTION);
    const generic = texts.some((t) => t.includes(GENERIC));
    const jndi = texts.some((t) => t.includes('javax.naming.') || t.includes('LDAP: error code'));
    // A verify action that failed for another reason (no user matched a mapping) is not a connection failure.
    if (!generic && !jndi) return undefined;
    // Login-time failures: JNDI exception texts, only in an LDAP context.
    if (!verify && !generic && !isLdapContext(event, texts)) return undefined;
    const { kind, adCode } = classifyLdapFailure(texts);
    return { server: ldapServerOf(texts), kind, adCode, verify, root: rootCause(event.continuation) };
  },

  key(signal) {
    return signal.server ?? '';
  },

  open(signal) {
    return { server: signal.server, kind: signal.kind, adCode: signal.adCode, verifies: 0, logins: 0, root: null, users: [] };
  },

  add(state, signal, event) {
    if (RANK.indexOf(signal.kind) < RANK.indexOf(state.kind)) {
      state.kind = signal.kind;
      state.adCode = signal.adCode;
    }
    if (signal.verify) state.verifies++;
    else state.logins++;
    if (signal.root !== null) state.root = signal.root;
    const user = event.kind === 'nexus' ? event.user : null;
    if (user !== null && user !== '*SYSTEM' && user !== '*UNKNOWN' && !state.users.includes(user) && state.users.length < 10) state.users.push(user);
  },

  describe(state, group) {
    const server = state.server ?? 'an LDAP server';
    const ldaps = state.server !== null && state.server.endsWith(':636');
    const how = howOften(group.count, group.firstTime, group.lastTime);
    const what = state.verifies > 0 && state.logins === 0 ? `"Verify connection" to LDAP server ${server} failed` : `Connections to LDAP server ${server} failed`;
    const why: Record<LdapFailureKind, string> = {
      unreachable: 'the server cannot be reached (connection refused or no route)',
      dns: 'its host name does not resolve',
      timeout: 'the connection timed out',
      'tls-untrusted': 'Nexus does not trust its TLS certificate (PKIX path building failed)',
      'tls-hostname': 'its TLS certificate does not match the host name',
      'tls-handshake': 'the TLS handshake failed',
      'bind-rejected': `the server rejected the bind (LDAP error 49${state.adCode !== null && AD_CODES[state.adCode] !== undefined ? `: ${AD_CODES[state.adCode]}` : ''})`,
      unknown: ldaps ? 'the log does not say why (on ldaps port 636 the TLS trust is the usual cause)' : 'the log does not say why',
    };
    const summary = `${what} ${how}: ${why[state.kind]}.`;
    return {
      subject: { type: 'ldap', name: state.server ?? 'unknown' },
      fingerprint: [state.server, state.kind],
      summary,
      facts: {
        server: state.server ?? 'not named in the log',
        cause: state.kind,
        ...(state.adCode !== null ? { 'AD code': `${state.adCode}${AD_CODES[state.adCode] === undefined ? '' : ` (${AD_CODES[state.adCode]})`}` } : {}),
        'verify attempts': state.verifies,
        'other failures': state.logins,
        ...(state.users.length > 0 ? { users: state.users } : {}),
        ...(state.root !== null ? { 'root cause': shortException(state.root, 300) } : {}),
      },
      diagnosis: diagnosisOf(state, server, ldaps),
    } satisfies Finding;
  },
};

function diagnosisOf(state: Readonly<State>, server: string, ldaps: boolean): Finding['diagnosis'] {
  const root = state.root === null ? '' : ` (${shortException(state.root, 240)})`;
  switch (state.kind) {
    case 'tls-untrusted':
      return {
        cause: 'ldap-tls-untrusted',
        explanation: `Nexus connects to ${server} over TLS (ldaps or StartTLS) but does not trust the certificate it presents${root}: its CA is not in the JVM's trust store nor in the Nexus truststore.`,
        confidence: 'high',
        remediation: [
          `Add the LDAP server's CA certificate to the Nexus truststore (Security > SSL Certificates > Load from server ${server}) and tick "Use the Nexus truststore" on the LDAP connection.`,
          'Or import it into the JVM trust store (keytool -importcert -keystore $JAVA_HOME/lib/security/cacerts) and restart Nexus.',
        ],
      };
    case 'tls-hostname':
      return {
        cause: 'ldap-tls-hostname-mismatch',
        explanation: `The certificate of ${server} does not name the host Nexus connects to${root}.`,
        confidence: 'high',
        remediation: ['Connect with a host name the certificate names (its subject alternative names), or have the certificate reissued for that name.'],
      };
    case 'bind-rejected':
      return {
        cause: 'ldap-bind-rejected',
        explanation:
          `${server} rejected the bind (LDAP error 49${state.adCode !== null && AD_CODES[state.adCode] !== undefined ? `, Active Directory: ${AD_CODES[state.adCode]}` : ''})${root}. ` +
          'On "Verify connection" or when every login fails, the connection\'s own bind DN and password are wrong (or that account is expired, locked or disabled); when only some users fail, they typed a wrong password.',
        confidence: 'high',
        remediation: [
          'Check the bind DN (Username) and password of the LDAP connection (Security > LDAP), and that account in the directory (expired, locked, disabled).',
          'Re-enter the password and save: a password restored from another instance cannot be decrypted.',
        ],
      };
    case 'dns':
    case 'timeout':
    case 'unreachable':
      return {
        cause: state.kind === 'dns' ? 'ldap-host-unknown' : state.kind === 'timeout' ? 'ldap-timeout' : 'ldap-unreachable',
        explanation: `Nexus cannot open a connection to ${server}${root}: ${state.kind === 'dns' ? 'the host name does not resolve from the Nexus host' : state.kind === 'timeout' ? 'the connection timed out (a firewall dropping packets, or the server overloaded)' : 'nothing accepts connections there (wrong host or port, server down, or a firewall)'}.`,
        confidence: 'high',
        remediation: [
          `From the Nexus host (inside its container), test the connection: nc -vz ${server.replace(':', ' ')} (or openssl s_client -connect ${server} for ldaps).`,
          'Fix the host, port and protocol (ldap 389, ldaps 636) of the LDAP connection, DNS, or the firewall rules between Nexus and the directory.',
        ],
      };
    case 'tls-handshake':
      return {
        cause: 'ldap-tls-handshake',
        explanation: `The TLS handshake with ${server} failed${root}: protocol versions or cipher suites that do not match, or a server that does not speak TLS on that port.`,
        confidence: 'medium',
        remediation: [`Check the protocol and port (ldaps on 636, ldap on 389), then the TLS versions both sides allow (openssl s_client -connect ${server}).`],
      };
    default:
      return {
        cause: 'ldap-connection-failed',
        explanation:
          `Nexus reports only "Failed to connect to LDAP Server. Please check the ${server} and authentication are correct"; the log does not show the exception under it. ` +
          (ldaps
            ? 'On ldaps (port 636) the usual cause is TLS trust: the certificate of the server is not trusted by the Nexus truststore or the JVM (a Java upgrade can drop an old CA or key size).'
            : 'The usual causes are the network (host, port, firewall), the bind DN and password, and for ldaps the TLS trust.'),
        confidence: 'low',
        remediation: [
          `Test from the Nexus host: nc -vz ${server.replace(':', ' ')}${ldaps ? ` and openssl s_client -connect ${server}` : ''}; then the bind with ldapsearch -H ${ldaps ? 'ldaps' : 'ldap'}://${server} -D <bind DN> -W.`,
          ldaps ? `Load the certificate of ${server} into the Nexus truststore (Security > SSL Certificates) and tick "Use the Nexus truststore" on the connection.` : 'Re-enter the bind password of the LDAP connection and verify again.',
          'Set the logger org.sonatype.nexus.ldap to DEBUG and verify again: the exception under the message names the cause.',
        ],
        references: [
          { title: 'sonatype/nexus-public issue 372: LDAP connections fail to verify on 3.67.0-03', url: 'https://github.com/sonatype/nexus-public/issues/372' },
          { title: 'sonatype/nexus-public issue 733: cannot connect to ldap server from 3.84.0-03', url: 'https://github.com/sonatype/nexus-public/issues/733' },
        ],
      };
  }
}
