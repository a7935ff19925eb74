import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Analyzer } from '../../src/analyzer';
import { blobstoreWriteFailed } from '../../src/rules/builtin/blobstore-write-failed';
import { blobstoreQuotaExceeded } from '../../src/rules/builtin/blobstore-quota-exceeded';
import { dockerBlobUploadRejected } from '../../src/rules/builtin/docker-blob-upload-rejected';
import { requestFailed } from '../../src/rules/builtin/request-failed';
import { requestErrors } from '../../src/rules/builtin/request-errors';
import { FIXTURES } from '../support/helpers';

it('prints', () => {
  const dir = path.join(FIXTURES, 'real');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.log'))) {
    const kind = f.includes('request-log') ? 'request' : 'nexus';
    const a = new Analyzer({ rules: [blobstoreWriteFailed, blobstoreQuotaExceeded, dockerBlobUploadRejected, requestFailed, requestErrors], kind });
    const out = [...a.write(readFileSync(path.join(dir, f))), ...a.end()];
    if (out.length) console.log(f, JSON.stringify(out.map((i) => [i.rule, i.subject, i.diagnosis.cause, i.severity, i.summary, i.count]), null, 0));
  }
});
