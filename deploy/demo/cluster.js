#!/usr/bin/env node
// The article's cluster.js, for `corral compare --scenario article` to run beside corral: Node's
// own cluster module forks one copy of server.js per core (WORKERS to choose) on one shared
// port and forks a new one whenever a worker exits, unless it was told to disconnect.
//
//   PORT=3000 SPIN=1e7 node deploy/demo/cluster.js
//
// SIGTERM/SIGINT: the workers are disconnected and the primary exits.
'use strict';
const cluster = require('cluster');
const os = require('os');
const path = require('path');

if (cluster.isPrimary) {
  const count = Number(process.env.WORKERS || os.cpus().length);
  for (let i = 0; i < count; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping || worker.exitedAfterDisconnect) return;
    console.log(`worker ${worker.process.pid} died (${signal || code}); forking a new one`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    cluster.disconnect(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  require(path.join(__dirname, 'server.js'));
}
