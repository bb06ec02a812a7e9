#!/usr/bin/env node
// An app that keeps its login sessions in process memory, the way Express with express-session's
// default MemoryStore does, for corral's sticky-session tests. Written on the plain `http`
// module so the tests need no npm install; it reproduces what corral sees of express-session:
//   - login creates a session in a per-process Map and answers
//       Set-Cookie: connect.sid=s%3A<id>.<signature>; Path=/; HttpOnly
//     (the id is 24 random bytes in base64url, the signature HMAC-SHA256 of the id under the
//     app's secret in base64 without '=', the whole value URI-encoded, as cookie-signature and
//     express-session do);
//   - a request whose cookie names a session this process does not hold is not logged in (what
//     happens when another process created it);
//   - logout destroys the session and clears the cookie, as res.clearCookie does:
//       Set-Cookie: connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT
//
// Environment: PORT (0: any free port), CORRAL_WORKER_ID and CORRAL_GENERATION (set by corral's
// master), NAME (a label when run as a static upstream).
// Routes: POST|GET /login?user=NAME  log in            -> 200 {who, user}
//         GET /me                     who am I          -> 200 {who, user} or 401 {who}
//         POST|GET /logout            log out           -> 200 {who}
//         GET|POST /socket.io/?EIO=4&transport=polling[&sid=S]
//                                     engine.io v4 long polling, as socket.io 4 answers it:
//                                     the handshake (no sid) opens a socket held in this
//                                     process -> 200 `0{"sid":…}` (plus Set-Cookie io=<sid> with
//                                     IO_COOKIE=1, socket.io's `cookie` option); a POST with a
//                                     known sid -> 200 "ok", a GET -> 200 with the packets the
//                                     POSTs queued (a connect packet `40{…}` answers `40`);
//                                     an unknown sid -> 400 {"code":1,"message":"Session ID
//                                     unknown"}, what a worker that did not do the handshake says
//         GET /                       anything else     -> 200 {who, cookie}
//         Upgrade: websocket on any path: 101, then one text frame with {who, user}, then echo.
// `who` is {slot, generation, pid, name}; `cookie` the Cookie header the app received.
'use strict';

const http = require('http');
const crypto = require('crypto');

const port = Number(process.env.PORT || 0);
const who = {
  slot: Number(process.env.CORRAL_WORKER_ID ?? -1),
  generation: Number(process.env.CORRAL_GENERATION || 0),
  pid: process.pid,
  name: process.env.NAME || '',
};
const secret = 'keyboard cat';
const cookieName = 'connect.sid';
const sessions = new Map();  // id -> {user}
const sockets = new Map();  // engine.io sid -> packets waiting for the next poll

function sign(id) {
  return id + '.' + crypto.createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
}

function unsign(signed) {
  const id = signed.slice(0, signed.lastIndexOf('.'));
  const expected = Buffer.from(sign(id));
  const given = Buffer.from(signed);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? id : null;
}

// The session the request's cookie names, if this process holds it.
function sessionOf(req) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== cookieName) continue;
    let value;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch (e) {
      return null;
    }
    if (!value.startsWith('s:')) return null;
    const id = unsign(value.slice(2));
    if (id && sessions.has(id)) return { id, data: sessions.get(id) };
    return null;
  }
  return null;
}

function reply(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, Object.assign({
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  }, headers));
  res.end(text);
}

function text(res, status, body, headers = {}) {
  res.writeHead(status, Object.assign({
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  }, headers));
  res.end(body);
}

function polling(req, res, url) {
  const sid = url.searchParams.get('sid');
  if (url.searchParams.get('EIO') !== '4' || url.searchParams.get('transport') !== 'polling') {
    return reply(res, 400, { code: 0, message: 'Transport unknown' });
  }
  if (!sid) {
    if (req.method !== 'GET') return reply(res, 400, { code: 2, message: 'Bad handshake method' });
    const id = crypto.randomBytes(15).toString('base64url');
    sockets.set(id, []);
    const open = JSON.stringify({ sid: id, upgrades: ['websocket'], pingInterval: 25000,
      pingTimeout: 20000, maxPayload: 1000000 });
    const headers = process.env.IO_COOKIE === '1'
      ? { 'Set-Cookie': `io=${id}; Path=/; HttpOnly; SameSite=Lax` } : {};
    return text(res, 200, '0' + open, headers);
  }
  if (!sockets.has(sid)) return reply(res, 400, { code: 1, message: 'Session ID unknown' });
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      // A connect packet to the main namespace is answered with the socket's id.
      for (const packet of body.split('\x1e')) {
        if (packet === '40') sockets.get(sid).push('40' + JSON.stringify({ sid, who }));
      }
      text(res, 200, 'ok');
    });
    return;
  }
  const queued = sockets.get(sid).splice(0);
  return text(res, 200, queued.length ? queued.join('\x1e') : '6');  // 6: noop
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/socket.io/') return polling(req, res, url);
  req.resume();
  const session = sessionOf(req);
  if (url.pathname === '/login') {
    const id = crypto.randomBytes(24).toString('base64url');
    const user = url.searchParams.get('user') || 'user';
    sessions.set(id, { user });
    if (session) sessions.delete(session.id);  // regenerate, as apps do on login
    const cookie = `${cookieName}=${encodeURIComponent('s:' + sign(id))}; Path=/; HttpOnly`;
    return reply(res, 200, { who, user }, { 'Set-Cookie': cookie });
  }
  if (url.pathname === '/logout') {
    if (session) sessions.delete(session.id);
    return reply(res, 200, { who }, {
      'Set-Cookie': `${cookieName}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
    });
  }
  if (url.pathname === '/me') {
    if (!session) return reply(res, 401, { who, error: 'not logged in' });
    return reply(res, 200, { who, user: session.data.user });
  }
  return reply(res, 200, { who, cookie: req.headers.cookie || '' });
});
server.keepAliveTimeout = 30000;

server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  if ((req.headers.upgrade || '').toLowerCase() !== 'websocket' || !key) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  // One unmasked text frame (server to client) saying who holds this socket, then an echo.
  const session = sessionOf(req);
  const text = Buffer.from(JSON.stringify({ who, user: session ? session.data.user : null }));
  socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  if (head && head.length) socket.write(head);
  socket.on('data', (d) => socket.write(d));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
