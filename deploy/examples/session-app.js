#!/usr/bin/env node
// The app the sticky-sessions and shared-sessions examples run in each worker slot, so that
// both run from a fresh clone (`corral run -c deploy/examples/…`). No dependencies.
//
// Sticky (sticky-sessions.yaml): like express-session's MemoryStore, it keeps each visitor's
// session in this process's memory under a connect.sid cookie; corral learns the pin from that
// Set-Cookie and sends the visitor back here.
//   curl -c jar -b jar http://127.0.0.1:8080/        # "visit 1 of <sid> on process <pid>", 2, 3...
//
// Shared state (shared-sessions.yaml): it keeps nothing; corral hands it the session in
// X-Corral-Session and stores what it answers (docs/sessions.md).
//   curl -c jar -b jar 'http://127.0.0.1:8080/login?user=ann'   # X-Corral-Session-Set
//   curl -c jar -b jar http://127.0.0.1:8080/                   # "hello ann from process <pid>"
//   curl -c jar -b jar http://127.0.0.1:8080/logout             # X-Corral-Session-Clear
//
// Environment: PORT (corral sets it; default 3000). GET /health answers 200 "ok".
'use strict';
const http = require('http');
const crypto = require('crypto');

const port = Number(process.env.PORT || 3000);
const visits = new Map();  // connect.sid -> visits, this process only

function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  const headers = { 'Content-Type': 'text/plain' };
  let body;
  if (url.pathname === '/health') {
    body = 'ok';
  } else if (url.pathname === '/login') {
    headers['X-Corral-Session-Set'] = JSON.stringify({ user: url.searchParams.get('user') || 'anon' });
    body = `logged in on process ${process.pid}`;
  } else if (url.pathname === '/logout') {
    headers['X-Corral-Session-Clear'] = '1';
    body = `logged out on process ${process.pid}`;
  } else if (req.headers['x-corral-session'] !== undefined) {
    let user = '?';
    try {
      user = JSON.parse(req.headers['x-corral-session']).user;
    } catch (e) {}
    body = `hello ${user} from process ${process.pid}`;
  } else {
    let sid = cookie(req, 'connect.sid');
    if (!sid || !visits.has(sid)) {
      sid = crypto.randomBytes(12).toString('base64url');
      headers['Set-Cookie'] = `connect.sid=${sid}; Path=/; HttpOnly`;
    }
    visits.set(sid, (visits.get(sid) || 0) + 1);
    body = `visit ${visits.get(sid)} of ${sid} on process ${process.pid}`;
  }
  res.writeHead(200, headers);
  res.end(body + '\n');
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
});
