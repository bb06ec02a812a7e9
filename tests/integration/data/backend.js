#!/usr/bin/env node
// A tagged test backend for the corral integration tests: every answer says which backend
// gave it (body and X-Backend header), so tests can tell where the proxy sent a request.
//
// Usage: node backend.js NAME PORT [MODE]   (or env NAME / PORT / MODE; PORT 0 = a free port)
// MODE "reset": every counted request is answered by closing the connection before any
// response byte (a crashed or misbehaving upstream).
// Prints "listening PORT" on stdout once it accepts connections, and "slow begin ..." when a
// /slow request arrives, so tests can wait for events instead of sleeping.
// With TLS_CERT and TLS_KEY set to PEM files it answers HTTPS.
//
// Routes (any method unless noted):
//   GET /                  NAME
//   /slow?ms=N             waits N ms, then NAME
//   /headers               JSON {method, url, httpVersion, remotePort, headers, rawHeaders} as
//                          received (remotePort tells the proxy's connections apart)
//   /echo                  streams the request body back (chunked)
//   /bytes?n=N             N bytes, byte i = i % 251, with Content-Length (HEAD: header only)
//   /upload, /sha          consumes the body; JSON {bytes, sha256}
//   /status?code=N         answers status N
//   /health                200 "ok"
//   /switch                101 Switching Protocols although the request asked for no upgrade
//   /chunked?n=K[&hold=ID] K chunks "chunk i\n"; with hold, waits after the first chunk until
//                          /release?id=ID is called
//   /release?id=ID         releases a held /chunked
//   /count                 JSON {seen, complete, client_errors, aborted}: requests whose header
//                          arrived, requests whose body arrived completely, connections whose
//                          bytes the HTTP parser refused, connections that ended or were reset
//                          in the middle of a request (/count, /health, /release not counted)
//   Upgrade: websocket     101 with a correct Sec-WebSocket-Accept, then echoes raw bytes
//   Upgrade: h2c           101 as an HTTP/2 server would (RFC 7540 §3.2), then writes
//                          "h2c tunnel\n" and echoes raw bytes: whatever follows would pass
//                          the proxy unseen if it tunnelled the connection
'use strict';

const http = require('http');
const crypto = require('crypto');

const name = process.argv[2] || process.env.NAME || 'backend';
const port = Number(process.argv[3] || process.env.PORT || 0);
const mode = process.argv[4] || process.env.MODE || 'normal';

const counts = { seen: 0, complete: 0, client_errors: 0, aborted: 0 };
const held = new Map();  // hold id -> function releasing the held response

// 251 is prime, so the pattern does not line up with any power-of-two buffer size; the buffer
// holds a whole number of periods so every slice of it starting at 0 continues the pattern.
const PERIOD = 251;
const pattern = Buffer.alloc(PERIOD * 1024);
for (let i = 0; i < pattern.length; i++) pattern[i] = i % PERIOD;

function uncounted(path) {
  return path === '/count' || path === '/health' || path === '/release';
}

function reply(res, status, body, type) {
  const buf = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type || 'text/plain',
    'Content-Length': buf.length,
    'X-Backend': name,
  });
  res.end(buf);
}

function streamBytes(req, res, n) {
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': n,
    'X-Backend': name,
  });
  if (req.method === 'HEAD') return res.end();
  let sent = 0;
  const pump = () => {
    while (sent < n) {
      const len = Math.min(pattern.length, n - sent);
      sent += len;
      if (!res.write(len === pattern.length ? pattern : pattern.subarray(0, len))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => { sent = n; });
  pump();
}

function handle(req, res) {
  const url = new URL(req.url, 'http://backend');
  const path = url.pathname;
  const counted = !uncounted(path);
  if (counted) {
    counts.seen++;
    req.on('end', () => { counts.complete++; });
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
  }

  switch (path) {
    case '/':
      req.resume();
      return reply(res, 200, name);
    case '/slow': {
      req.resume();
      const ms = Number(url.searchParams.get('ms') || 1000);
      console.log(`slow begin ms=${ms}`);
      const timer = setTimeout(() => reply(res, 200, name), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case '/headers':
      req.resume();
      return reply(res, 200, JSON.stringify({
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        remotePort: req.socket.remotePort,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
      }), 'application/json');
    case '/echo':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Backend': name });
      req.pipe(res);
      return;
    case '/bytes':
      req.resume();
      return streamBytes(req, res, Number(url.searchParams.get('n') || 0));
    case '/upload':
    case '/sha': {
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk) => { bytes += chunk.length; hash.update(chunk); });
      req.on('end', () => reply(res, 200,
        JSON.stringify({ bytes, sha256: hash.digest('hex') }), 'application/json'));
      return;
    }
    case '/status': {
      req.resume();
      const code = Number(url.searchParams.get('code') || 200);
      if (code === 204 || code === 304) {
        res.writeHead(code, { 'X-Backend': name });
        return res.end();
      }
      return reply(res, code, `status ${code}\n`);
    }
    case '/health':
      req.resume();
      return reply(res, 200, 'ok');
    case '/switch':
      // 101 to a request that asked for no upgrade, then bytes that are not HTTP/1.
      req.resume();
      req.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n' +
        'Upgrade: h2c\r\n\r\nh2c tunnel\n');
      return;
    case '/chunked': {
      req.resume();
      const n = Number(url.searchParams.get('n') || 3);
      const hold = url.searchParams.get('hold');
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': name });
      let i = 0;
      const next = () => {
        if (i >= n) return res.end();
        res.write(`chunk ${i}\n`);
        i++;
        if (i === 1 && hold) {
          held.set(hold, next);
        } else {
          setImmediate(next);
        }
      };
      next();
      return;
    }
    case '/release': {
      req.resume();
      const id = url.searchParams.get('id');
      const release = held.get(id);
      if (!release) return reply(res, 404, `no held response ${id}\n`);
      held.delete(id);
      release();
      return reply(res, 200, 'released');
    }
    case '/count':
      req.resume();
      return reply(res, 200, JSON.stringify(counts), 'application/json');
    default:
      req.resume();
      return reply(res, 404, `no route ${path}\n`);
  }
}

// With TLS_CERT and TLS_KEY (PEM files) in the environment it speaks HTTPS instead (for
// corral's upstream TLS).
const server = process.env.TLS_CERT
  ? require('https').createServer({
      cert: require('fs').readFileSync(process.env.TLS_CERT),
      key: require('fs').readFileSync(process.env.TLS_KEY),
    }, handle)
  : http.createServer(handle);
server.keepAliveTimeout = 30000;
server.headersTimeout = 60000;
server.requestTimeout = 0;  // 1 GiB uploads take as long as they take

server.on('clientError', (err, socket) => {
  // A peer that goes away mid-request (as a proxy does when it refuses a body half-way) is not
  // a peer that sent malformed bytes.
  if (err.code === 'HPE_INVALID_EOF_STATE' || err.code === 'ECONNRESET') {
    counts.aborted++;
  } else {
    counts.client_errors++;
  }
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  socket.destroy();
});

server.on('upgrade', (req, socket, head) => {
  counts.seen++;
  counts.complete++;
  if ((req.headers.upgrade || '').toLowerCase().split(/\s*,\s*/).includes('h2c')) {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n' +
      `X-Backend: ${name}\r\n\r\nh2c tunnel\n`);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    return;
  }
  const key = req.headers['sec-websocket-key'];
  if ((req.headers.upgrade || '').toLowerCase() !== 'websocket' || !key) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    `X-Backend: ${name}\r\n\r\n`);
  if (head && head.length) socket.write(head);
  socket.on('data', (d) => socket.write(d));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

process.on('SIGTERM', () => process.exit(0));
