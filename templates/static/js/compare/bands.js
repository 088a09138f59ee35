// The timing and pitch bands' names. They come from the page's legend, which the server renders
// from the one list in Python (learning.replies.views.BAND_KINDS): JavaScript keeps no copy.
const BAND_NAMES = Object.fromEntries(
  [...document.querySelectorAll("[data-band-legend] li")].map((item) => [
    (item.querySelector(".swatch")?.className.match(/\bband-(\w+)/) || [])[1],
    item.querySelector("strong")?.textContent.trim(),
  ]).filter(([kind, name]) => kind && name),
);
export const bandName = (kind) => BAND_NAMES[kind] || kind;
