#!/usr/bin/env node
// The app of the article corral's cluster mode answers: every request spins the CPU in a loop,
// then says which process handled it. Run by corral's master in a slot (PORT is set).
//
// Environment (set by the test, all optional):
//   LOOP=N             iterations of the busy loop per request (the article: 1e7)
//   CRASH_RANDOM_MS=N  process.exit(1) after a random 0..N ms (the article's crash scenario)
'use strict';

const http = require('http');

const loop = Number(process.env.LOOP || 1e7);

http.createServer((req, res) => {
  for (let i = 0; i < loop; i++) {}
  req.resume();
  res.end(`Handled by process ${process.pid}`);
}).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log('listening');
});

if (process.env.CRASH_RANDOM_MS) {
  setTimeout(() => process.exit(1), Math.random() * Number(process.env.CRASH_RANDOM_MS));
}
