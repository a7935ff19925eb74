// Embedding the synchronous core, as a log shipper would: push bytes as they arrive,
// get back the incidents that closed, and end the input so nothing open is lost.
// Run from the repository: node docs/examples/embed-analyzer.js
const fs = require('node:fs');
const { Analyzer } = require('nexus-log-analyzer');

const analyzer = new Analyzer({ source: 'nexus.log', maxOpenGroups: 5000 });
const bytes = fs.readFileSync('samples/nexus.log');
const forward = (incidents) => incidents.forEach((incident) => console.log(JSON.stringify({ id: incident.id, summary: incident.summary })));

for (let at = 0; at < bytes.length; at += 4096) forward(analyzer.write(bytes.subarray(at, at + 4096)));
forward(analyzer.end()); // open groups become incidents with closeReason "end-of-input"
console.log(JSON.stringify(analyzer.stats));
