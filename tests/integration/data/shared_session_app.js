#!/usr/bin/env node
// A tagged app for the shared-state (sessions) tests: it keeps no state of its own, reads the
// session corral forwards in X-Corral-Session and changes it by answering with
// X-Corral-Session-Set / X-Corral-Session-Clear, as docs/sessions.md describes.
//
// Usage: node shared_session_app.js NAME PORT   (PORT 0 = a free port; prints "listening PORT")
// As a corral worker: no arguments; PORT from the environment, NAME "slot<CORRAL_WORKER_ID>".
//
// Routes (any method); every answer is JSON {name, session, headers}: the forwarded session
// (parsed) or null, and every request header as received.
// The answer also carries the process's pid.
//   /whoami                    nothing changes
//   /login?user=U              Set {"user": U}
//   /set?k=v&k2=v2[&delay=ms]  Set {"k": "v", ...}, answered after `delay` ms
//   /unset?k                   Set {"k": null} (removes the field)
//   /logout[?delay=ms]         Clear
//   /relogin?user=U            Clear and Set {"user": U} in one answer (a new session id)
//   /bad                       Set with a value that is not a JSON object
// A request with a delay prints "begin PATH" when it arrives, so tests can wait for it.
'use strict';

const http = require('http');

const name = process.argv[2] || process.env.NAME || 'slot' + (process.env.CORRAL_WORKER_ID || '');
const port = Number(process.argv[3] || process.env.PORT || 0);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  const q = url.searchParams;
  const headers = { 'Content-Type': 'application/json', 'X-App': name };
  const fields = {};
  for (const [k, v] of q) if (k !== 'delay') fields[k] = v;
  switch (url.pathname) {
    case '/login':
      headers['X-Corral-Session-Set'] = JSON.stringify({ user: q.get('user') });
      break;
    case '/set':
      headers['X-Corral-Session-Set'] = JSON.stringify(fields);
      break;
    case '/unset':
      headers['X-Corral-Session-Set'] = JSON.stringify(
          Object.fromEntries([...q.keys()].map((k) => [k, null])));
      break;
    case '/logout':
      headers['X-Corral-Session-Clear'] = '1';
      break;
    case '/relogin':
      headers['X-Corral-Session-Clear'] = '1';
      headers['X-Corral-Session-Set'] = JSON.stringify({ user: q.get('user') });
      break;
    case '/bad':
      headers['X-Corral-Session-Set'] = '[1, 2]';
      break;
    default:
      break;
  }
  const raw = req.headers['x-corral-session'];
  let session = null;
  if (raw !== undefined) {
    try {
      session = JSON.parse(raw);
    } catch (e) {
      session = { unparsable: raw };
    }
  }
  const body = JSON.stringify({ name, pid: process.pid, session, headers: req.headers });
  const answer = () => {
    res.writeHead(200, headers);
    res.end(body);
  };
  req.resume();
  req.on('end', () => {
    const delay = Number(q.get('delay') || 0);
    if (delay > 0) console.log('begin ' + url.pathname);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});

server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
