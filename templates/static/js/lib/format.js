// Numbers as people read them on the pages. Pure: tested with `node --test tests/js/`.

export function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
  return `${bytes.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// A share (0..1) as a whole percentage: 0.123 → "12 %".
export const percent = (share) => `${Math.round(share * 100)} %`;
