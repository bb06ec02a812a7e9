#!/usr/bin/env node
// The demo app: the article's one-process server ("Handled by process <pid>", optionally
// CPU-bound) grown into a small stateful app with logins and a cart, so that every corral mode
// (round robin, sticky, shared sessions in Redis) can be tried on the same code.
//
//   PORT=3000 node deploy/demo/server.js          # fast: replies at once
//   SPIN=1e7 PORT=3000 node deploy/demo/server.js # the article's CPU-bound variant (a busy loop per request)
//
// Environment: PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 to accept from outside),
// SPIN (busy-loop iterations for GET /, default 0), CRASH_WITHIN (seconds: exit(1) after a random
// 0..CRASH_WITHIN s, as the article's random crashes; default 0, never).
//
// Routes (answers are JSON unless said otherwise; every answer carries X-Worker: <slot>):
//   GET  /                 "Handled by process <pid>" (text; busy loop of SPIN iterations first)
//   GET  /cpu[?n=1e7]      the article's CPU-bound endpoint: a busy loop of n iterations, then the same text
//   GET  /health           200 "ok"
//   POST /login?user=NAME  starts a session for NAME: {"user":NAME,"cart":[]}
//   GET  /me               {"user":NAME}, or 401 {"error":"not logged in"}
//   POST /cart/add?item=X  adds X to the cart: {"user":NAME,"cart":[...]} (401 without a session)
//   GET  /cart             {"user":NAME,"cart":[...]} (401 without a session)
//   POST /logout           ends the session: {"ok":true}
//
// Sessions: kept in this process's memory under the cookie demo_sid, unless corral's shared
// session arrives (X-Corral-Session, docs/sessions.md): then the session is corral's and every
// change is answered with X-Corral-Session-Set / -Clear. A login answers both ways (a fresh
// in-memory session and X-Corral-Session-Set), since no session header can arrive before there
// is a session; corral in shared mode keeps the latter, the client ignores what it does not use.
// SIGTERM/SIGINT: stop accepting, finish in-flight requests, exit 0.
'use strict';
const http = require('http');
const crypto = require('crypto');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
const spin = Number(process.env.SPIN || 0);
const crashWithin = Number(process.env.CRASH_WITHIN || 0);
const worker = process.env.CORRAL_WORKER_ID ?? process.env.WORKER ?? '-';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.js: PORT must be 0..65535, got '${process.env.PORT}'`);
  process.exit(2);
}
if (!Number.isFinite(spin) || spin < 0) {
  console.error(`server.js: SPIN must be a non-negative number, got '${process.env.SPIN}'`);
  process.exit(2);
}
if (!Number.isFinite(crashWithin) || crashWithin < 0) {
  console.error(`server.js: CRASH_WITHIN must be a non-negative number, got '${process.env.CRASH_WITHIN}'`);
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

// In-memory sessions: demo_sid -> {user, cart}.
const sessions = new Map();
const COOKIE = 'demo_sid';

function cookieValue(header, name) {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// The request's session: {user, cart, shared} or null.
function loadSession(req) {
  const raw = req.headers['x-corral-session'];
  if (raw !== undefined) {
    try {
      const s = JSON.parse(raw);
      if (s && typeof s.user === 'string') return { user: s.user, cart: Array.isArray(s.cart) ? s.cart : [], shared: true };
    } catch (e) { /* not a session */ }
    return null;
  }
  const sid = cookieValue(req.headers.cookie, COOKIE);
  const s = sid && sessions.get(sid);
  return s ? { user: s.user, cart: s.cart, shared: false, sid } : null;
}

function send(res, status, headers, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Worker': String(worker),
    ...headers,
  });
  res.end(text);
}

function handle(req, res, url) {
  const path = url.pathname;
  if (path === '/health') return send(res, 200, {}, 'ok');
  if (path === '/' || path === '/cpu') {
    const n = path === '/cpu' ? Number(url.searchParams.get('n') || 1e7) : spin;
    if (n > 0) busy(n);
    return send(res, 200, {}, greeting);
  }
  if (path === '/login' && req.method === 'POST') {
    const user = url.searchParams.get('user');
    if (!user) return send(res, 400, {}, { error: 'user= is required' });
    const old = cookieValue(req.headers.cookie, COOKIE);
    if (old) sessions.delete(old);
    const sid = crypto.randomBytes(18).toString('base64url');
    sessions.set(sid, { user, cart: [] });
    return send(res, 200, {
      'Set-Cookie': `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`,
      'X-Corral-Session-Clear': '1',
      'X-Corral-Session-Set': JSON.stringify({ user, cart: [] }),
    }, { user, cart: [] });
  }
  if (path === '/logout' && req.method === 'POST') {
    const sid = cookieValue(req.headers.cookie, COOKIE);
    if (sid) sessions.delete(sid);
    return send(res, 200, {
      'Set-Cookie': `${COOKIE}=; Path=/; Max-Age=0`,
      'X-Corral-Session-Clear': '1',
    }, { ok: true });
  }
  const s = loadSession(req);
  if (path === '/me' && req.method === 'GET') {
    return s ? send(res, 200, {}, { user: s.user }) : send(res, 401, {}, { error: 'not logged in' });
  }
  if (path === '/cart' && req.method === 'GET') {
    return s ? send(res, 200, {}, { user: s.user, cart: s.cart }) : send(res, 401, {}, { error: 'not logged in' });
  }
  if (path === '/cart/add' && req.method === 'POST') {
    if (!s) return send(res, 401, {}, { error: 'not logged in' });
    const item = url.searchParams.get('item');
    if (!item) return send(res, 400, {}, { error: 'item= is required' });
    const cart = [...s.cart, item];
    if (s.shared) {
      return send(res, 200, { 'X-Corral-Session-Set': JSON.stringify({ cart }) }, { user: s.user, cart });
    }
    sessions.get(s.sid).cart = cart;
    return send(res, 200, {}, { user: s.user, cart });
  }
  return send(res, 404, {}, { error: 'no such route' });
}

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => handle(req, res, new URL(req.url, 'http://demo')));
});
// Longer than any proxy's upstream idle timeout, so the proxy closes pooled connections first.
server.keepAliveTimeout = 75_000;

server.listen(port, host, () => {
  const a = server.address();
  console.log(`demo app ${process.pid} listening on http://${a.address}:${a.port}${spin ? ` (spin ${spin})` : ''}`);
  if (crashWithin > 0) {
    // The article's random crashes.
    setTimeout(() => process.exit(1), Math.random() * crashWithin * 1000);
  }
});

function stop() {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
