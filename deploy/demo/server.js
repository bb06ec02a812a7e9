#!/usr/bin/env node
// The demo app from the article corral's scenarios come from: one Node process answering
// "Handled by process <pid>", so that a client can see which clone served it.
//
//   PORT=3000 node deploy/demo/server.js          # fast: replies at once
//   SPIN=1e7 PORT=3000 node deploy/demo/server.js # the article's CPU-bound variant (a busy loop per request)
//
// Environment: PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 to accept from outside),
// SPIN (busy-loop iterations per request, default 0). GET /health answers 200 "ok".
// SIGTERM/SIGINT: stop accepting, finish in-flight requests, exit 0.
'use strict';
const http = require('http');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
const spin = Number(process.env.SPIN || 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.js: PORT must be 0..65535, got '${process.env.PORT}'`);
  process.exit(2);
}
if (!Number.isFinite(spin) || spin < 0) {
  console.error(`server.js: SPIN must be a non-negative number, got '${process.env.SPIN}'`);
  process.exit(2);
}

// Every reply has the same length whatever the pid (padded with spaces): `ab` counts a change of
// body length as a failed request.
const greeting = `Handled by process ${process.pid}`.padEnd(26) + '\n';

// The article's `for (let i = 0; i < 1e7; i++) {}`; the sum keeps the loop from being optimised away.
function busy(iterations) {
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum += i;
  return sum;
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' });
    res.end('ok');
    return;
  }
  if (spin > 0) busy(spin);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(greeting) });
  res.end(greeting);
});
// Longer than any proxy's upstream idle timeout, so the proxy closes pooled connections first.
server.keepAliveTimeout = 75_000;

server.listen(port, host, () => {
  const a = server.address();
  console.log(`demo app ${process.pid} listening on http://${a.address}:${a.port}${spin ? ` (spin ${spin})` : ''}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
