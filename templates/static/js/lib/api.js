// Calls to Practika's JSON API from page scripts: same-origin credentials, the CSRF token on
// writes, and the API's {"code", "message"} error shape turned into an Error with that message.
import { csrfToken } from "./csrf.js";

export function sameOrigin(url) {
  return new URL(url, location.href).origin === location.origin;
}

export async function api(url, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (options.body && !(options.body instanceof Blob)) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET") headers["X-CSRFToken"] = csrfToken();
  const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers }));
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (e) { data = null; }
  }
  if (!response.ok) {
    const error = new Error((data && data.message) || `The server answered ${response.status}.`);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}
