#!/usr/bin/env node
// The article's cluster master: forks one worker per CPU, each running server.js; forks a new
// worker when one exits with a non-zero code (unless the master asked it to stop:
// exitedAfterDisconnect); on SIGUSR2 restarts the workers one at a time: disconnect worker i,
// wait for its exit, fork a replacement, wait for its 'listening', then worker i+1.
//
// Environment: the same as server.js (PORT, SPIN, CRASH, ...), passed on to every worker, plus
//   WORKERS=N   how many workers (default os.cpus().length, as in the article)
//
// Logs (stdout) the lines the benchmark waits for: "Forking N workers", each worker's
// "Started process ...", "Worker PID crashed. Starting a new worker...", and
// "rolling restart done in N ms" when a SIGUSR2 restart has gone through every worker.
'use strict';

const cluster = require('cluster');
const os = require('os');

if (cluster.isPrimary ?? cluster.isMaster) {
  const count = Number(process.env.WORKERS || os.cpus().length);
  console.log(`Forking ${count} workers`);
  for (let i = 0; i < count; i++) {
    cluster.fork();
  }

  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0 && !worker.exitedAfterDisconnect) {
      console.log(`Worker ${worker.process.pid} crashed (${signal || `code ${code}`}). Starting a new worker...`);
      cluster.fork();
    }
  });

  process.on('SIGUSR2', () => {
    const started = Date.now();
    const workers = Object.values(cluster.workers);
    console.log(`rolling restart of ${workers.length} workers`);
    const restartWorker = (workerIndex) => {
      const worker = workers[workerIndex];
      if (!worker) {
        console.log(`rolling restart done in ${Date.now() - started} ms`);
        return;
      }
      worker.on('exit', () => {
        if (!worker.exitedAfterDisconnect) return;
        console.log(`Exited process ${worker.process.pid}`);
        cluster.fork().on('listening', () => {
          restartWorker(workerIndex + 1);
        });
      });
      worker.disconnect();
    };
    restartWorker(0);
  });
} else {
  require('./server');
}
