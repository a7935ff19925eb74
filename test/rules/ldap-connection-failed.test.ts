/** ldap-connection-failed: Verify connection failures and LDAP exceptions, per server, classified. */
import { classifyLdapFailure, ldapConnectionFailed, ldapServerOf } from '../../src/rules/builtin/ldap-connection-failed';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const EXT = 'org.sonatype.nexus.extdirect.internal.ExtDirectExceptionHandler';
const run = (text: string | string[]) => incidents(ldapConnectionFailed, text);

const verify = (ms: number, server: string, ...cause: string[]): string[] => [
  line(ms, 'ERROR', EXT, 'Failed to invoke action method: ldap_LdapServer.verifyConnection, java-method: org.sonatype.nexus.ldap.internal.ui.LdapServerComponent.verifyConnection', { thread: 'qtp1737967084-518', user: 'admin' }),
  `java.lang.Exception: Failed to connect to LDAP Server. Please check the ${server} and authentication are correct.`,
  '        at org.sonatype.nexus.ldap.internal.ui.LdapServerComponent.verifyConnection_aroundBody38(LdapServerComponent.java:215)',
  ...cause,
];

describe('ldap-connection-failed', () => {
  it('classifies by the exception under the message', () => {
    const cases: Array<[string[], string, string]> = [
      [['Caused by: javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.ConnectException: Connection refused]'], 'ldap-unreachable', 'the server cannot be reached (connection refused or no route)'],
      [['Caused by: javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.UnknownHostException: ldap01]'], 'ldap-host-unknown', 'its host name does not resolve'],
      [['Caused by: javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.SocketTimeoutException: connect timed out]'], 'ldap-timeout', 'the connection timed out'],
      [
        ['Caused by: javax.naming.CommunicationException: simple bind failed: ldap01:389 [Root exception is javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target]'],
        'ldap-tls-untrusted',
        'Nexus does not trust its TLS certificate (PKIX path building failed)',
      ],
      [['Caused by: javax.naming.AuthenticationException: [LDAP: error code 49 - 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v2580]'], 'ldap-bind-rejected', 'the server rejected the bind (LDAP error 49: invalid credentials)'],
      [[], 'ldap-connection-failed', 'the log does not say why'],
    ];
    for (const [cause, id, why] of cases) {
      const [incident] = run(verify(0, 'ldap01:389', ...cause));
      expect([id, incident?.diagnosis.cause]).toEqual([id, id]);
      expect(incident).toMatchObject({ severity: 'error', category: 'security', subject: { type: 'ldap', name: 'ldap01:389' }, user: 'admin' });
      expect(incident?.summary).toBe(`"Verify connection" to LDAP server ldap01:389 failed once: ${why}.`);
    }
  });

  it('login-time failures: JNDI exceptions in an LDAP context, wherever they are logged', () => {
    const [incident] = run([
      line(0, 'WARN', 'org.sonatype.nexus.ldap.internal.realms.DefaultLdapContextFactory', 'Failed to connect to LDAP server', { thread: 'qtp1-9', user: '*UNKNOWN' }),
      'javax.naming.CommunicationException: simple bind failed: ldap.example.com:636 [Root exception is javax.net.ssl.SSLHandshakeException: PKIX path building failed: x]',
    ]);
    expect(incident).toMatchObject({ subject: { name: 'ldap.example.com:636' }, diagnosis: { cause: 'ldap-tls-untrusted' } });
    expect(incident?.summary).toBe('Connections to LDAP server ldap.example.com:636 failed once: Nexus does not trust its TLS certificate (PKIX path building failed).');
    expect(incident?.diagnosis.remediation[0]).toContain('Nexus truststore');
  });

  it('a storm of failed logins against one server is one incident', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      lines.push(line(i * 500, 'WARN', 'org.sonatype.nexus.ldap.internal.LdapRealm', 'Unable to authenticate', { thread: `qtp1-${i % 40}`, user: `user${i % 7}` }));
      lines.push('javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.ConnectException: Connection refused]');
    }
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 1000, facts: { 'other failures': 1000, server: 'ldap01:389' }, diagnosis: { cause: 'ldap-unreachable' } });
    expect(incident?.summary).toBe('Connections to LDAP server ldap01:389 failed 1,000 times in 8 min (120.1/min): the server cannot be reached (connection refused or no route).');
  });

  it('an hour without a failure ends the incident; other servers are other incidents', () => {
    const list = run([...verify(0, 'a:389'), ...verify(MINUTE, 'b:389'), ...verify(2 * 60 * MINUTE, 'a:389')]);
    expect(list.map((i) => i.subject?.name)).toEqual(['a:389', 'b:389', 'a:389']);
  });

  it('near misses: PKIX of a proxy repository, JNDI outside LDAP, a verify that failed for another reason', () => {
    expect(
      run([
        line(0, 'WARN', 'org.sonatype.nexus.repository.maven.internal.orient.MavenProxyFacet', 'Exception javax.net.ssl.SSLHandshakeException: PKIX path building failed checking remote for update, proxy repo maven-central failed to fetch x'),
        line(0, 'WARN', 'org.sonatype.nexus.Other', 'lookup failed'),
        'javax.naming.CommunicationException: broker:1099',
        line(0, 'ERROR', EXT, 'Failed to invoke action method: ldap_LdapServer.verifyUserMapping, java-method: x', { user: 'admin' }),
        'java.lang.Exception: No users found',
      ]),
    ).toEqual([]);
  });

  it('reads the server and the cause from the texts', () => {
    expect(ldapServerOf(['x', 'javax.naming.CommunicationException: ldap01:389 [Root exception is java.net.ConnectException: Connection refused]'])).toBe('ldap01:389');
    expect(ldapServerOf(['javax.naming.NamingException: failed for ldaps://dc1.corp.example:636/dc=corp'])).toBe('dc1.corp.example:636');
    expect(classifyLdapFailure(['[LDAP: error code 49 - 80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1]'])).toEqual({ kind: 'bind-rejected', adCode: '775' });
  });

  it('a long adversarial message costs its length', async () => {
    const list = await incidentsOffThread([ldapConnectionFailed.id], verify(0, adversarial('ldap:389 Please check the ', 200_000)));
    expect(list).toHaveLength(1);
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout
});

describe('ldap-connection-failed on the real excerpts', () => {
  it('np-372: Verify connection to ldap01:389 failed, no exception shown', () => {
    const name = 'np-372-ldap-verify-connection-failed.log';
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ subject: { type: 'ldap', name: corpusEntry(name).expected[0]?.subject }, diagnosis: { cause: 'ldap-connection-failed', confidence: 'low' } });
    expect(incident?.evidence[0]?.text).toContain('ldap_LdapServer.verifyConnection');
  });

  it('np-733: ldaps on 636 (3.84): the TLS trust is named as the usual cause', () => {
    const name = 'np-733-ldaps-verify-connection-failed-3-84.log';
    const [incident] = run(realLog(name));
    expect(incident).toMatchObject({ subject: { name: 'FQDN:636' } });
    expect(incident?.summary).toBe('"Verify connection" to LDAP server FQDN:636 failed once: the log does not say why (on ldaps port 636 the TLS trust is the usual cause).');
    expect(incident?.diagnosis.remediation[1]).toContain('Nexus truststore');
  });
});
