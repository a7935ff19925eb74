/** The incidents of server-run, server-start-failed, task-failed, ldap-connection-failed and authentication-failures validate against the incident JSON Schema, and chunking does not change them. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { authenticationFailures } from '../../src/rules/builtin/authentication-failures';
import { ldapConnectionFailed } from '../../src/rules/builtin/ldap-connection-failed';
import { serverRun } from '../../src/rules/builtin/server-run';
import { serverStartFailed } from '../../src/rules/builtin/server-start-failed';
import { taskFailed } from '../../src/rules/builtin/task-failed';
import { analyze, FIXTURES, ROOT } from '../support/helpers';
import { at, line } from '../support/rule-lines';

const rules = [serverRun, serverStartFailed, taskFailed, ldapConnectionFailed, authenticationFailures];
const ids = rules.map((r) => r.id);
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(path.join(ROOT, 'docs', 'incident.schema.json'), 'utf8')) as object);
const corpus = readdirSync(path.join(FIXTURES, 'real')).filter((f) => f.endsWith('.log'));

describe('server, task and security rules: incident shape', () => {
  it('every incident they make of the real excerpts is valid, and the same in any chunking', () => {
    let made = 0;
    for (const name of corpus) {
      const text = readFileSync(path.join(FIXTURES, 'real', name));
      const whole = analyze(text, { rules, source: name });
      expect([name, analyze(text, { rules, source: name }, [1, 7, 64, 3])]).toEqual([name, whole]);
      for (const incident of whole) {
        if (!validate(incident)) throw new Error(`${name}: ${JSON.stringify(validate.errors)}`);
        made++;
      }
    }
    expect(made).toBeGreaterThanOrEqual(20);
  });

  it('audit and request incidents are valid too', () => {
    const audit = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ timestamp: at(i * 1000), domain: 'security.user', type: 'authentication', initiator: 'x/10.0.0.9', attributes: { failureReasons: ['INCORRECT_CREDENTIALS'], wasSuccessful: false, userId: `u${i}`, remoteIp: '10.0.0.9' } }),
    ).join('\n');
    const list = analyze(audit, { rules, kind: 'audit' });
    expect(list.map((i) => i.rule)).toEqual(['authentication-failures']);
    for (const incident of list) expect(validate(incident)).toBe(true);
    expect(ids).toContain(list[0]?.rule);
    const lifecycle = analyze(`${line(0, 'INFO', 'org.sonatype.nexus.pax.logging.NexusLogActivator', 'start')}\n`, { rules, lifecycle: true });
    for (const incident of lifecycle) expect(validate(incident)).toBe(true);
  });
});
