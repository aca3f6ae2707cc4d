// Start the reference server's Streamable HTTP transport
// (@modelcontextprotocol/server-everything, `streamableHttp` mode) for
// bench/run.sh on a loopback address and an ephemeral port.
//
// The package listens on $PORT (3001 by default) on every interface; a
// benchmark must not take a fixed port or listen beyond loopback, so the
// first listen() is redirected to 127.0.0.1 port 0 and the port the kernel
// chose is written to the file named by $BENCH_PORT_FILE (via a temp file
// and a rename, so a reader never sees half of it).
import net from 'node:net';
import fs from 'node:fs';

const portFile = process.env.BENCH_PORT_FILE;
if (!portFile) {
  console.error('everything-http: set BENCH_PORT_FILE');
  process.exit(2);
}
const listen = net.Server.prototype.listen;
let redirected = false;
net.Server.prototype.listen = function (...args) {
  if (redirected) return listen.apply(this, args);
  redirected = true;
  const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  this.once('listening', () => {
    fs.writeFileSync(`${portFile}.tmp`, `${this.address().port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
  });
  return cb ? listen.call(this, 0, '127.0.0.1', cb) : listen.call(this, 0, '127.0.0.1');
};
await import('./node_modules/@modelcontextprotocol/server-everything/dist/transports/streamableHttp.js');
