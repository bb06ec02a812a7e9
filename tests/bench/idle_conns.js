#!/usr/bin/env node
// Opens N keep-alive HTTP/1.1 connections to a server, sends one GET on each, reads the whole
// response, then keeps every connection open and idle. Used by proxy_bench.sh to measure how much
// memory a proxy spends per idle client connection.
//
//   node idle_conns.js --port 8080 [--host 127.0.0.1] [--conns 10000] [--parallel 200] [--path /]
//                      [--tls]   (TLS, certificate not verified: for tls_bench.sh)
//
// Prints one line `ready {json}` on stdout once every connection has its response (or failed),
// then waits. On SIGTERM/SIGINT (or when stdin is closed with --stdin) it prints
// `done {json}` with how many connections were still open (a count below `ok` means the server
// closed idle connections while we held them), resets every socket and exits 0.
// Exit 1 when not a single connection got a response.
'use strict';
const net = require('net');

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 0, conns: 10000, parallel: 200, path: '/', timeoutMs: 15000 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--host': o.host = v; i++; break;
      case '--port': o.port = Number(v); i++; break;
      case '--conns': o.conns = Number(v); i++; break;
      case '--parallel': o.parallel = Number(v); i++; break;
      case '--path': o.path = v; i++; break;
      case '--timeout-ms': o.timeoutMs = Number(v); i++; break;
      case '--tls': o.tls = true; break;
      default:
        console.error(`idle_conns.js: unknown argument ${k}`);
        process.exit(2);
    }
  }
  if (!o.port || !(o.conns > 0) || !(o.parallel > 0)) {
    console.error('usage: node idle_conns.js --port P [--host H] [--conns N] [--parallel K] [--path /]');
    process.exit(2);
  }
  return o;
}

const opt = parseArgs(process.argv);
const request = Buffer.from(
  `GET ${opt.path} HTTP/1.1\r\nHost: ${opt.host}:${opt.port}\r\nUser-Agent: idle_conns\r\n\r\n`);

const sockets = new Set();   // connections that got a complete response and are held idle
const errors = {};           // error code -> count
const statuses = {};         // status code -> count
let ok = 0, failed = 0, started = 0, finished = 0, closedByPeer = 0;
const t0 = process.hrtime.bigint();
const ms = () => Number((process.hrtime.bigint() - t0) / 1000000n);

function countError(code) { errors[code] = (errors[code] || 0) + 1; }

// Reads one response (status line, headers, Content-Length or chunked body) from the socket.
function openOne(done) {
  const s = opt.tls
    ? require('tls').connect({ host: opt.host, port: opt.port, rejectUnauthorized: false })
    : net.connect({ host: opt.host, port: opt.port });
  let buf = Buffer.alloc(0);
  let settled = false;
  const timer = setTimeout(() => finish(false, 'ETIMEOUT'), opt.timeoutMs);

  function finish(good, why) {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (good) {
      ok++;
      sockets.add(s);
      s.removeAllListeners('data');
      s.on('data', () => {});   // an unexpected byte later is ignored, the socket stays counted
      s.on('close', () => { if (sockets.delete(s)) closedByPeer++; });
    } else {
      failed++;
      countError(why);
      s.destroy();
    }
    done();
  }

  s.setNoDelay(true);
  s.on(opt.tls ? 'secureConnect' : 'connect', () => s.write(request));
  s.on('error', (e) => finish(false, e.code || e.message));
  s.on('close', () => finish(false, 'ECLOSED'));
  s.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    statuses[status] = (statuses[status] || 0) + 1;
    const body = buf.subarray(end + 4);
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (cl) {
      if (body.length >= Number(cl[1])) finish(status >= 200 && status < 400, `HTTP${status}`);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      if (body.indexOf('0\r\n\r\n') >= 0) finish(status >= 200 && status < 400, `HTTP${status}`);
    } else {
      finish(false, 'ENOLENGTH');   // a close-delimited body cannot stay open
    }
  });
}

function report(kind, extra) {
  const o = {
    conns: opt.conns, ok, failed, open: sockets.size, closed_by_peer: closedByPeer,
    statuses, errors, elapsed_ms: ms(), ...extra,
  };
  process.stdout.write(`${kind} ${JSON.stringify(o)}\n`);
}

function pump() {
  while (started < opt.conns && started - finished < opt.parallel) {
    started++;
    openOne(() => {
      finished++;
      if (finished === opt.conns) {
        report('ready');
        if (ok === 0) process.exit(1);
      } else {
        pump();
      }
    });
  }
}

function stop() {
  report('done');
  for (const s of sockets) {
    // A reset leaves no TIME_WAIT behind on the client side, so back-to-back runs do not
    // run out of ephemeral ports.
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy(); else s.destroy();
  }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
pump();
