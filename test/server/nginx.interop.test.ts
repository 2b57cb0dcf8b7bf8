/**
 * nginx (Debian's nginx-light) in front of our `--socket` with `uwsgi_pass`:
 * the CLI runs a master with 2 workers, nginx runs with a private prefix and
 * config in a temp dir. Responses are checked byte for byte.
 */
import { request } from 'node:http';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, needs, start, tempDir, waitForPort, which, type Child } from '../lib/interop.ts';
import { pattern } from '../fixtures/nginx-app.ts';

// The standard uwsgi_params (as Debian ships them in /etc/nginx/uwsgi_params).
const PARAMS = ['QUERY_STRING $query_string', 'REQUEST_METHOD $request_method', 'CONTENT_TYPE $content_type',
  'CONTENT_LENGTH $content_length', 'REQUEST_URI $request_uri', 'PATH_INFO $document_uri', 'DOCUMENT_ROOT $document_root',
  'SERVER_PROTOCOL $server_protocol', 'REQUEST_SCHEME $scheme', 'HTTPS $https if_not_empty', 'REMOTE_ADDR $remote_addr',
  'REMOTE_PORT $remote_port', 'SERVER_PORT $server_port', 'SERVER_NAME $server_name'].map((p) => `uwsgi_param ${p};`).join('\n      ');

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: Uint8Array }

function http(port: number, method: string, path: string, body?: Uint8Array): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: body ? { 'content-length': body.length, 'content-type': 'application/octet-stream' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('interop: nginx uwsgi_pass', () => {
  for (const [shape, fixture] of [['a Fetch app', 'nginx-app'], ['an Express app', 'express-nginx-app']] as const) test(`${shape}: GET with a query string, a 1 MB POST, a streamed 2 MiB response, 200 concurrent requests`, async ({ skip }) => {
    const missing = needs('nginx');
    if (missing) skip(missing);
    const dir = tempDir('uwsgi-wasm-nginx-');
    let ours: Child | undefined;
    let nginx: Child | undefined;
    try {
      const sport = await freePort();
      const nport = await freePort();
      ours = start(process.execPath, ['dist/cli.js', '--workers', '2', '--socket', `127.0.0.1:${sport}`, '--buffer-size', '8192', `build/tests/fixtures/${fixture}.js`]);
      await waitForPort(sport);
      for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir.path, d));
      writeFileSync(join(dir.path, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir.path}/body;
  proxy_temp_path ${dir.path}/proxy;
  fastcgi_temp_path ${dir.path}/fastcgi;
  uwsgi_temp_path ${dir.path}/uwsgi;
  scgi_temp_path ${dir.path}/scgi;
  client_max_body_size 4m;
  server {
    listen 127.0.0.1:${nport};
    server_name localhost;
    location / {
      ${PARAMS}
      uwsgi_pass 127.0.0.1:${sport};
    }
  }
}
`);
      nginx = start(which('nginx')!, ['-p', dir.path, '-c', join(dir.path, 'nginx.conf'), '-e', join(dir.path, 'error.log')]);
      await waitForPort(nport);

      const g = await http(nport, 'GET', '/path/x?a=1&b=two');
      assert.equal(g.status, 200);
      assert.match(String(g.headers['content-type']), /^text\/plain/);
      assert.equal(Buffer.from(g.body).toString(), `method=GET path=/path/x qs=a=1&b=two a=1 host=127.0.0.1:${nport}\n`);

      const big = pattern(1 << 20, 5);
      const p = await http(nport, 'POST', '/upload', big);
      assert.equal(p.status, 200);
      assert.equal(p.headers['x-cl'], String(big.length));
      assert.ok(same(p.body, big), `the 1 MB body comes back byte for byte (${p.body.length} bytes)`);

      const s = await http(nport, 'GET', '/big');
      assert.ok(same(s.body, pattern(2 << 20, 11)), 'the streamed 2 MiB response arrives byte for byte');

      // 200 requests, 50 at a time, mixing GETs and small POSTs; every answer checked.
      const workers = new Set<string>();
      let next = 0;
      const one = async () => {
        while (next < 200) {
          const i = next++;
          if (i % 4 === 3) {
            const body = pattern(1000 + i, i);
            const r = await http(nport, 'POST', `/p/${i}`, body);
            assert.ok(r.status === 200 && same(r.body, body), `POST ${i}`);
          } else {
            const r = await http(nport, 'GET', `/g/${i}?a=${i}`);
            assert.equal(Buffer.from(r.body).toString(), `method=GET path=/g/${i} qs=a=${i} a=${i} host=127.0.0.1:${nport}\n`);
            workers.add(String(r.headers['x-worker']));
          }
        }
      };
      await Promise.all(Array.from({ length: 50 }, one));
      assert.deepEqual([...workers].sort(), ['1', '2'], 'both workers served nginx');
    } catch (e) {
      let log = '';
      try { log = readFileSync(join(dir.path, 'error.log'), 'utf8'); } catch { /* none */ }
      throw new Error(`${(e as Error).message}\n--- ours:\n${ours?.output() ?? ''}\n--- nginx error.log:\n${log}`);
    } finally {
      await nginx?.stop();
      await ours?.stop();
      dir.cleanup();
    }
  }, 120_000);
});
