// The compare page's hooks, so a lower module can ask for work done by an upper one without
// importing it (the modules' imports stay acyclic, which hashed static names need):
//   "layout"  the timeline's geometry changed (a duration, the offset, the sync mode, the time
//             map): the timeline redraws its waveforms, comments and alignment re-place their
//             markers and bands (each registers in its init, in the order compare.js calls them)
//   "render"  the transport's position or state changed: the timeline redraws its playhead
const hooks = new Map();

export function on(name, fn) {
  if (!hooks.has(name)) hooks.set(name, []);
  hooks.get(name).push(fn);
}

export function emit(name) {
  for (const fn of hooks.get(name) || []) fn();
}

// The hook run once in the next animation frame, however often it is asked for before then:
// a page load (two loadedmetadata events, the alignment, the comments) or a drag of the
// reply's lane asks for many layouts, and one redraw per frame is all anyone sees.
const queued = new Set();
export function schedule(name) {
  if (queued.has(name)) return;
  queued.add(name);
  requestAnimationFrame(() => { queued.delete(name); emit(name); });
}
