// socket.io 0.9.19, as Respoke ran it: the server the dev server is measured against
// (scripts/bench/run.sh, the "server" section). Loopback only; exits by itself.
//
//   node server.js --port 3332 [--max-secs 600]
//
// Settings: websocket transport only (what Respoke offered), log level 1 (warnings: the
// default, 3, logs every packet and would measure console.log). Everything else is
// socket.io 0.9's default and printed at start: heartbeat interval 25 s, heartbeat timeout
// 60 s, close timeout 60 s, MemoryStore. A connected socket does nothing but answer
// heartbeats (socket.io answers them itself), as in the load generator's hold phase.
'use strict';

var http = require('http');

var port = 3332;
var maxSecs = 600;
for (var i = 2; i < process.argv.length; i++) {
  var flag = process.argv[i], value = process.argv[i + 1];
  if (flag === '--port') { port = Number(value); i++; }
  else if (flag === '--max-secs') { maxSecs = Number(value); i++; }
  else { console.error('unknown argument ' + flag); process.exit(2); }
}

var server = http.createServer(function (req, res) {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});
var io = require('socket.io').listen(server);
io.set('transports', ['websocket']);
io.set('log level', 1);
io.set('browser client', false);

var live = 0, total = 0;
io.sockets.on('connection', function (socket) {
  live++; total++;
  socket.on('disconnect', function () { live--; });
});

server.listen(port, '127.0.0.1', function () {
  console.log(JSON.stringify({
    listening: '127.0.0.1:' + port,
    pid: process.pid,
    node: process.version,
    socketio: require('socket.io/package.json').version,
    transports: io.get('transports'),
    heartbeatIntervalSecs: io.get('heartbeat interval'),
    heartbeatTimeoutSecs: io.get('heartbeat timeout'),
    closeTimeoutSecs: io.get('close timeout'),
    logLevel: io.get('log level'),
  }));
});

// A status line every 10 s (live sockets), and a hard stop.
setInterval(function () {
  console.log(JSON.stringify({ live: live, total: total, rssKb: Math.round(process.memoryUsage().rss / 1024) }));
}, 10000).unref();
setTimeout(function () {
  console.error('socketio09: stopping after --max-secs ' + maxSecs);
  process.exit(0);
}, maxSecs * 1000);
process.on('SIGTERM', function () { process.exit(0); });
process.on('SIGINT', function () { process.exit(0); });
