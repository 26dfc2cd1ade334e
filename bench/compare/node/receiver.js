// A minimal Node receiver of App Store Server Notifications on Apple's library: it verifies the
// signed payload and the nested transaction and renewal info with SignedDataVerifier (offline)
// and answers 200, or 400 when verification fails. It stores nothing, which favours it against
// "s2s listen" (which stores every notification durably before answering).
// Usage: node receiver.js ROOT.pem PORT   (prints "listening URL" once ready; PORT 0 picks one)
'use strict';
const fs = require('fs');
const http = require('http');
const { SignedDataVerifier, Environment } = require('@apple/app-store-server-library');

function rootDER(path) {
  const pem = fs.readFileSync(path, 'utf8');
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

const [root, port] = process.argv.slice(2);
const v = new SignedDataVerifier([rootDER(root)], false, Environment.SANDBOX, process.env.BUNDLE_ID || 'com.example.s2s');

async function verify(text) {
  const body = JSON.parse(text);
  const n = await v.verifyAndDecodeNotification(body.signedPayload);
  const data = n.data || {};
  if (data.signedTransactionInfo) await v.verifyAndDecodeTransaction(data.signedTransactionInfo);
  if (data.signedRenewalInfo) await v.verifyAndDecodeRenewalInfo(data.signedRenewalInfo);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    verify(Buffer.concat(chunks).toString('utf8'))
      .then(() => { res.writeHead(200); res.end(); })
      .catch(() => { res.writeHead(400); res.end(); });
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(port || 0), '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}/\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
