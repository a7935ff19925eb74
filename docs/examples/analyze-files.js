// Every failed Docker push in a log folder, one line each.
// Run from the repository: node docs/examples/analyze-files.js samples/
const { analyzeFiles, formatImageRef, isDockerPushIncident } = require('nexus-log-analyzer');

async function main(folder) {
  for await (const incident of analyzeFiles(folder)) {
    if (!isDockerPushIncident(incident)) continue;
    const layers = incident.missingLayers.length;
    console.log(`${incident.firstSeen}  ${incident.repository ?? '?'}  ${formatImageRef(incident.image, incident.reference)}  ` +
      `${layers} missing layer(s)  cause: ${incident.diagnosis.cause}`);
  }
}

main(process.argv[2] ?? 'samples/').catch((error) => {
  console.error(error.message);
  process.exitCode = 2;
});
