'use strict';
/**
 * Library: a createAnalyzer() stream torn down in the middle of a push. The open push must come
 * out closed with reason `aborted` (the 'aborted' event, or the error's `incidents`), never be
 * lost without a word. Three ways: destroy(), destroy(error), and a pipeline whose source fails.
 */
const path = require('node:path');
const { Readable, pipeline } = require('node:stream');
const { createAnalyzer } = require(path.join(__dirname, '..', '..', '..', 'dist', 'index.js'));
const L = require('../lines');

// Push 1 open (its 400 never comes); a line 5 s later so the held events have reached the engine.
const text = `${[...L.push(1, 0, { rejected: false }).lines, L.infoLine(L.ts(5000), 'main', 'later')].join('\n')}\n`;

/** Resolves with the push incidents the stream gave back in any form, and how. */
function tornDown(how) {
  return new Promise((resolve) => {
    const stream = createAnalyzer();
    const got = [];
    let via = 'nothing';
    // The same incidents may come both ways (the error's `incidents` and 'aborted'): one each by id.
    const finish = () => resolve({ pushes: [...new Map(got.filter((i) => i.rule === L.PUSH_RULE).map((i) => [i.id, i])).values()], via });
    stream.on('data', (incident) => got.push(incident));
    stream.on('aborted', (incidents) => {
      got.push(...incidents);
      via = via === 'nothing' ? "'aborted'" : `${via} + 'aborted'`;
    });
    stream.on('error', (error) => {
      if (Array.isArray(error.incidents)) got.push(...error.incidents);
      const way = `error${Array.isArray(error.incidents) ? ' with incidents' : ''}`;
      via = via === 'nothing' ? way : `${via} + ${way}`;
    });
    stream.on('close', () => setImmediate(finish));
    if (how === 'pipeline') {
      const source = new Readable({ read() {} });
      pipeline(source, stream, () => {});
      source.push(text);
      setImmediate(() => source.destroy(new Error('the shipper lost its file')));
      return;
    }
    stream.write(text, () => (how === 'destroy' ? stream.destroy() : stream.destroy(new Error('shutting down'))));
  });
}

(async () => {
  const problems = [];
  const notes = [];
  for (const how of ['destroy', 'destroy(error)', 'pipeline']) {
    const { pushes, via } = await tornDown(how);
    notes.push(`${how}: ${pushes.map((p) => p.closeReason).join(',') || 'none'} via ${via}`);
    if (pushes.length !== 1) problems.push(`${how}: ${pushes.length} push incidents, wanted 1`);
    else if (pushes[0].closeReason !== 'aborted') problems.push(`${how}: closeReason ${pushes[0].closeReason}, not aborted`);
  }
  process.stdout.write(`${JSON.stringify({ problems, note: notes.join('; ') })}\n`);
})();
