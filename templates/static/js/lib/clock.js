// Times as people read them on the pages. Pure: tested with `node --test tests/js/`.

// m:ss.t, tenths rounded, with a minus sign (U+2212) before a negative time: the compare page.
export function clock(seconds) {
  const negative = seconds < 0;
  const tenths = Math.round(Math.abs(seconds) * 10);
  const m = Math.floor(tenths / 600);
  const s = Math.floor((tenths % 600) / 10);
  return `${negative ? "−" : ""}${m}:${String(s).padStart(2, "0")}.${tenths % 10}`;
}

// m:ss, whole seconds cut down: a running recording's length.
export function clockWhole(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
