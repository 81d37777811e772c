// The peer side of bench/bench_tokenizer.sh: npm's gpt-3-encoder (the GPT-2 BPE in JavaScript)
// encodes every `text` of a JSON Lines file one by one; ids are checked against the file's `ids`
// and the best-of-N time is printed as one JSON object.
//   node bench/gpt3_encoder_peer.cjs NODE_MODULES_DIR FILE.jsonl [REPEATS]
const fs = require('fs');
const path = require('path');
const { encode } = require(path.resolve(process.argv[2], 'gpt-3-encoder'));
const rows = fs.readFileSync(process.argv[3], 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const repeats = Number(process.argv[4] || 5);
let tokens = 0, bytes = 0, mismatches = 0;
for (const r of rows) {
  const ids = encode(r.text);
  tokens += ids.length;
  bytes += Buffer.byteLength(r.text, 'utf8');
  if (JSON.stringify(ids) !== JSON.stringify(r.ids)) mismatches++;
}
let best = Infinity;
for (let k = 0; k < repeats; k++) {
  const t = process.hrtime.bigint();
  for (const r of rows) encode(r.text);
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
}
console.log(JSON.stringify({ peer: 'gpt-3-encoder (node ' + process.version + ')', texts: rows.length,
                             bytes, tokens, seconds: best, mismatches }));
