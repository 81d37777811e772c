// A HuggingFace-hub stand-in on 127.0.0.1 for the download tests: serves the files of one folder
// as repository REPO at commit COMMIT in the hub's URL layout, as huggingface.co answers them:
//   GET  /api/models/REPO/revision/(main|COMMIT)  → {"id", "sha", "siblings": [{"rfilename"}]}
//   HEAD|GET /REPO/resolve/(main|COMMIT)/FILE     plain files: 200, ETag = git blob SHA-1;
//        LFS files (*.safetensors, *.bin): 302 to /lfs/SHA256 with X-Linked-Etag (SHA-256) and
//        X-Linked-Size; every answer carries X-Repo-Commit
//   GET  /lfs/SHA256                               the bytes, honouring "Range: bytes=N-" (206)
// Faults, for the first LFS body only: --cut-after N (send N bytes, then drop the connection),
// --stall-after N (send N bytes, then hang), --corrupt (flip one byte of the body), --no-range
// (ignore Range, answer 200). Every request is logged as one line "METHOD URL range=…" to --log.
// Prints "port N" on stdout once listening.
//   node hub_server.mjs --root DIR --repo org/name [--commit SHA] [--log FILE] [faults]
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf('--' + name);
  return i < 0 ? fallback : args[i + 1];
};
const flag = (name) => args.includes('--' + name);
const root = opt('root');
const repo = opt('repo');
const commit = opt('commit', '0123456789abcdef0123456789abcdef01234567');
const log = opt('log');
const cutAfter = opt('cut-after') === undefined ? -1 : Number(opt('cut-after'));
const stallAfter = opt('stall-after') === undefined ? -1 : Number(opt('stall-after'));
let faultPending = cutAfter >= 0 || stallAfter >= 0 || flag('corrupt');

const files = new Map();  // name -> {data, lfs, etag}
const bySha = new Map();
for (const name of readdirSync(root).sort()) {
  const data = readFileSync(join(root, name));
  const lfs = /\.(safetensors|bin)$/.test(name);
  const etag = lfs ? createHash('sha256').update(data).digest('hex')
    : createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
  files.set(name, { data, lfs, etag });
  if (lfs) bySha.set(etag, data);
}

const server = createServer((req, res) => {
  const url = decodeURIComponent(req.url);
  if (log) appendFileSync(log, `${req.method} ${url} range=${req.headers.range ?? '-'}\n`);
  res.setHeader('X-Repo-Commit', commit);
  const revs = new Set(['main', commit]);
  let m = url.match(/^\/api\/models\/(.+)\/revision\/([^/]+)$/);
  if (m) {
    if (m[1] !== repo || !revs.has(m[2])) { res.writeHead(404); return res.end('{"error":"Repository not found"}'); }
    res.setHeader('Content-Type', 'application/json');
    return res.end(JSON.stringify({ id: repo, sha: commit, siblings: [...files.keys()].map((f) => ({ rfilename: f })) }));
  }
  m = url.match(/^\/(.+)\/resolve\/([^/]+)\/([^/]+)$/);
  if (m) {
    const f = files.get(m[3]);
    if (m[1] !== repo || !revs.has(m[2]) || !f) { res.writeHead(404); return res.end('Entry not found'); }
    if (f.lfs) {
      res.writeHead(302, { Location: `/lfs/${f.etag}`, 'X-Linked-Etag': `"${f.etag}"`,
        'X-Linked-Size': String(f.data.length), ETag: `"${f.etag.slice(0, 40)}"` });
      return res.end();
    }
    res.writeHead(200, { ETag: `"${f.etag}"`, 'Content-Length': String(f.data.length) });
    return res.end(req.method === 'HEAD' ? undefined : f.data);
  }
  m = url.match(/^\/lfs\/([0-9a-f]{64})$/);
  if (m && bySha.has(m[1])) {
    let data = bySha.get(m[1]);
    let start = 0;
    const range = (req.headers.range ?? '').match(/^bytes=(\d+)-$/);
    if (range && !flag('no-range')) start = Number(range[1]);
    if (start >= data.length && start > 0) { res.writeHead(416); return res.end(); }
    const body = data.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'Content-Length': String(body.length),
      ...(start > 0 ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    if (faultPending) {
      faultPending = false;
      if (flag('corrupt')) {
        const bad = Buffer.from(body);
        bad[bad.length >> 1] ^= 0xff;
        return res.end(bad);
      }
      const n = cutAfter >= 0 ? cutAfter : stallAfter;
      res.write(body.subarray(0, n));
      if (cutAfter >= 0) setTimeout(() => res.socket.destroy(), 100);
      return;  // stall: never ends
    }
    return res.end(body);
  }
  res.writeHead(404);
  res.end('not found');
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
