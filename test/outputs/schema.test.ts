/** Every incident the samples and fixtures produce validates against docs/incident.schema.json. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { INCIDENT_SCHEMA_VERSION } from '../../src/incidents/incident';
import { analyze, missingLayerLine, parseNdjson, rejectionLine, ROOT, runCli } from '../support/helpers';

const schema = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'incident.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

function expectValid(incidents: unknown[]): void {
  for (const incident of incidents) {
    const ok = validate(incident);
    if (!ok) throw new Error(`${JSON.stringify(validate.errors)}\n${JSON.stringify(incident).slice(0, 500)}`);
  }
}

describe('incident JSON Schema', () => {
  it('every incident of the bundled samples, through the CLI, is valid and carries the schema version', () => {
    const incidents = parseNdjson(runCli(['samples/']).stdout);
    expect(incidents.filter((i) => i.rule === 'docker-manifest-missing-layers')).toHaveLength(12); // samples/README.md: 11 + the broken server's
    expectValid(incidents);
    expect(incidents.every((i) => i.schemaVersion === INCIDENT_SCHEMA_VERSION)).toBe(true);
  });

  it('incidents of every close reason and shape are valid', () => {
    const orphan = analyze(missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', 'null', { node: 'n1' }));
    const alone = analyze(rejectionLine('2025-01-01 10:00:00,000+0000', 'img', 'sha256:abc'));
    expectValid([...orphan, ...alone]);
    expect(orphan[0]?.closeReason).toBe('end-of-input');
  });

  it('rejects what is not an incident (the schema has teeth)', () => {
    const [good] = parseNdjson(runCli(['samples/nexus-seed-excerpt.log']).stdout);
    expect(validate({ ...good, firstSeen: '2025-09-10 01:36:22' })).toBe(false);
    expect(validate({ ...good, closeReason: 'gone' })).toBe(false);
    const { missingLayers: _dropped, ...withoutLayers } = good as unknown as Record<string, unknown>;
    expect(validate(withoutLayers)).toBe(false);
  });
});
