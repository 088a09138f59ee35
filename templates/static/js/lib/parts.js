// How the server cuts a file into multipart-upload parts (learning/storage/parts.py): 8 MiB
// parts, larger only when a huge file would need more than S3's 10,000. The uploader must cut
// the same parts before the server has answered (Uppy plans the parts first), so the rule is
// written here too and checked against Python's answers (tests/js/parts.test.mjs) and against
// the part size each upload's ticket names. Pure: tested with `node --test tests/js/`.

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
export const MAX_PARTS = 10000;

export function partSizeFor(size) {
  return Math.max(DEFAULT_PART_BYTES, Math.ceil(size / MAX_PARTS));
}

export function partCount(size, partSize) {
  return Math.max(1, Math.ceil(size / partSize));
}
