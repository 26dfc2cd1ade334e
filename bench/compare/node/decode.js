// Verifies every notification of an NDJSON file ({"signedPayload":"..."} per line) with Apple's
// SignedDataVerifier, offline, outer and nested (transaction, renewal info), one after the other
// as a Node server does. Prints "verified N failed M". Usage: node decode.js ROOT.pem FILE
'use strict';
const fs = require('fs');
const readline = require('readline');
const { SignedDataVerifier, Environment } = require('@apple/app-store-server-library');

function rootDER(path) {
  const pem = fs.readFileSync(path, 'utf8');
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

async function verifyBody(v, line) {
  const body = JSON.parse(line);
  const n = await v.verifyAndDecodeNotification(body.signedPayload);
  const data = n.data || {};
  if (data.signedTransactionInfo) await v.verifyAndDecodeTransaction(data.signedTransactionInfo);
  if (data.signedRenewalInfo) await v.verifyAndDecodeRenewalInfo(data.signedRenewalInfo);
}

(async () => {
  const [root, file] = process.argv.slice(2);
  const bundleId = process.env.BUNDLE_ID || 'com.example.s2s';
  const v = new SignedDataVerifier([rootDER(root)], false, Environment.SANDBOX, bundleId);
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let ok = 0, failed = 0;
  for await (const line of rl) {
    if (!line.trim()) continue;
    try { await verifyBody(v, line); ok++; } catch (e) { failed++; if (failed <= 3) console.error(String(e && (e.message || e.status) || e)); }
  }
  process.stdout.write(`verified ${ok} failed ${failed}\n`);
  process.exit(failed ? 3 : 0);
})().catch(e => { console.error(e); process.exit(1); });
