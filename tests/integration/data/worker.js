#!/usr/bin/env node
// A worker app for corral's cluster tests, run by corral's master in a slot. Every answer says
// which worker gave it, so tests can tell slots and generations apart.
//
// Environment (set by corral): PORT, CORRAL_WORKER_ID, CORRAL_GENERATION, NODE_CHANNEL_FD.
// Environment (set by the test, all optional):
//   CRASH_AFTER_MS=N     process.exit(1) N ms after start
//   CRASH_RANDOM_MS=N    process.exit(1) after a random 0..N ms (the article's crash scenario)
//   HANG_IF_FILE=PATH    if PATH exists at start, never listen (a replacement that never gets ready)
//   READY_MESSAGE=1      after listening, process.send('ready') (ready.when: message)
//   SLOW_STOP_MS=N       on SIGTERM, wait N ms before closing
//
// Routes: GET /          JSON {slot, pid, generation, port}
//         GET /slow?ms=N  the same after N ms
//         ANY /exit       reads the whole request, then process.exit(1) without answering
// Prints "listening PORT" once it accepts connections, and "message JSON" for each IPC message;
// each message is also answered with process.send({echo: message}). A message {relay: X} is
// sent on as {corral: "broadcast", data: X}, which corral delivers to every other worker.
// A message {spin: N} keeps the worker busy for N ms (it reads nothing meanwhile), or until the
// file `until_file` names exists when the message has one; a message {blob: ...} is ignored.
'use strict';

const http = require('http');
const fs = require('fs');

const slot = Number(process.env.CORRAL_WORKER_ID || -1);
const generation = Number(process.env.CORRAL_GENERATION || 0);
const port = Number(process.env.PORT || 0);

function identity() {
  return { slot, pid: process.pid, generation, port };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://worker');
  const answer = () => {
    const body = JSON.stringify(identity());
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-Worker': `${slot}/${generation}/${process.pid}`,
    });
    res.end(body);
  };
  req.resume();
  if (url.pathname === '/exit') {
    console.log(`exit after ${req.method}`);
    req.on('end', () => process.exit(1));
    return;
  }
  if (url.pathname === '/slow') {
    setTimeout(answer, Number(url.searchParams.get('ms') || 1000));
  } else {
    answer();
  }
});
server.keepAliveTimeout = 30000;

process.on('message', (message) => {
  if (message && typeof message === 'object' && 'spin' in message) {
    // Busy for a while, like the article's CPU-bound handler: nothing is read meanwhile.
    const until = Date.now() + Number(message.spin);
    const file = message.until_file;
    let look = 0;
    while (Date.now() < until) {
      if (file && Date.now() >= look) {
        if (fs.existsSync(file)) break;
        look = Date.now() + 10;
      }
    }
    console.log('spun');
    return;
  }
  if (message && typeof message === 'object' && 'blob' in message) return;  // filler
  console.log(`message ${JSON.stringify(message)}`);
  if (process.send) process.send({ echo: message, slot });
  if (message && typeof message === 'object' && 'relay' in message && process.send) {
    process.send({ corral: 'broadcast', data: message.relay });
  }
});

if (process.env.CRASH_AFTER_MS) {
  setTimeout(() => process.exit(1), Number(process.env.CRASH_AFTER_MS));
}
if (process.env.CRASH_RANDOM_MS) {
  setTimeout(() => process.exit(1), Math.random() * Number(process.env.CRASH_RANDOM_MS));
}

process.on('SIGTERM', () => {
  setTimeout(() => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  }, Number(process.env.SLOW_STOP_MS || 0));
});

if (process.env.HANG_IF_FILE && fs.existsSync(process.env.HANG_IF_FILE)) {
  console.log('hanging: not listening');
  setInterval(() => {}, 1 << 30);
} else {
  server.listen(port, '127.0.0.1', () => {
    console.log(`listening ${server.address().port}`);
    if (process.env.READY_MESSAGE && process.send) process.send('ready');
  });
}
