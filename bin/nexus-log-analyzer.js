#!/usr/bin/env node
'use strict';
// Entry point of the CLI; everything else lives in dist/ (built from src/ by `npm run build`).
const { main } = require('../dist/cli/main.js');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`nexus-log-analyzer: internal error: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 70;
  },
);
