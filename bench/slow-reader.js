'use strict';
// A slow consumer for bench/load.js: reads stdin 64 KiB every 16 ms (~4 MB/s), counts lines.
let lines = 0;
process.stdin.pause();
const timer = setInterval(() => {
  const chunk = process.stdin.read(64 * 1024) ?? process.stdin.read();
  if (chunk !== null) for (const byte of chunk) if (byte === 0x0a) lines++;
}, 16);
process.stdin.on('end', () => {
  clearInterval(timer);
  console.log(`${lines} incidents read`);
});
