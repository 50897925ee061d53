// s3rver for the local stack, plus the one S3 call it lacks: AbortMultipartUpload.
// s3rver 3.7 answers DELETE /<bucket>/<key>?uploadId=... with 405, which would leave the
// parts of every aborted upload on disk; this deletes them as S3 does.
// Usage: node s3rver-local.js <directory> <address> <port> <bucket>
'use strict';
const fs = require('fs/promises');
const path = require('path');
const S3rver = require('s3rver');

const [directory, address, port, bucket] = process.argv.slice(2);
const server = new S3rver({
  directory,
  address,
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

function noSuchUpload(ctx, uploadId) {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
    `<Message>The specified upload does not exist.</Message><UploadId>${uploadId}</UploadId></Error>`;
}

server.middleware.unshift(async function abortMultipartUpload(ctx, next) {
  if (ctx.method !== 'DELETE' || ctx.query.uploadId === undefined) return next();
  const uploadId = String(ctx.query.uploadId);
  const bucketName = decodeURIComponent(ctx.path.split('/')[1] || '');
  // Upload ids are s3rver's own hex tokens; anything else could name another path.
  if (!/^[A-Za-z0-9]+$/.test(uploadId) || !bucketName || bucketName.includes('..')) {
    return noSuchUpload(ctx, uploadId);
  }
  const uploadDir = path.join(server.store.getResourcePath(bucketName, undefined, 'uploads'), uploadId);
  try {
    await fs.access(uploadDir);
  } catch {
    return noSuchUpload(ctx, uploadId);
  }
  await fs.rm(uploadDir, { recursive: true, force: true });
  ctx.status = 204;
});

server.run().then(
  () => console.log(`s3rver listening on ${address}:${port}, directory ${directory}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
