#!/usr/bin/env node
// The article's CPU-bound app: every request spins `for (let i = 0; i < 1e7; i++)`, then answers
// "Handled by process <pid>". Run alone (`node server.js`), under Node's cluster module
// (cluster.js requires it in each worker), under PM2 (`pm2 start server.js -i max`) and under
// corral (`workers: {command: [node, server.js], count: max}`), unchanged.
//
// Environment (all optional):
//   PORT=8080        where to listen (corral sets it per worker; under cluster/PM2 the workers share it)
//   SPIN=1e7         iterations of the busy loop per request (the article's 1e7)
//   CRASH=1          process.exit(1) after a random 0..CRASH_MAX_MS ms (the article's crash scenario)
//   CRASH_MAX_MS=10000
//   GRACEFUL=1       on SIGINT/SIGTERM stop accepting, finish the requests in flight, then exit
//                    (the article's app has no such handler: it dies at once; default off)
//
// Every answer has the same length (the pid is padded), since `ab` counts a change of length as a
// failed request.
'use strict';

const http = require('http');

const pid = process.pid;
const port = Number(process.env.PORT || 8080);
const spin = Number(process.env.SPIN || 1e7);
const BODY_LENGTH = 32;

const server = http.createServer((req, res) => {
  for (let i = 0; i < spin; i++); // simulate CPU work
  res.end(`Handled by process ${pid}`.padEnd(BODY_LENGTH));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`Started process ${pid}, listening on ${port}`);
});

if (process.env.CRASH === '1') {
  const max = Number(process.env.CRASH_MAX_MS || 10000);
  setTimeout(() => {
    process.exit(1); // death by random timeout
  }, Math.random() * max);
}

if (process.env.GRACEFUL === '1') {
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
