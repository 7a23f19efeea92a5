// Which backend URLs a build may use. Plain CommonJS so that both app.config.ts
// (evaluated by Node, where a release build with a local URL fails at build time)
// and the app (checked again at start-up) use this one copy.

const LOCAL_HOSTS = new Set(["localhost", "0.0.0.0", "::1", "[::1]", "10.0.2.2"]);

/** @param {string} hostname @returns {boolean} */
function isLocalHost(hostname) {
  const host = hostname.toLowerCase();
  return LOCAL_HOSTS.has(host) || host.endsWith(".localhost") || /^127\./.test(host);
}

/**
 * The reason `url` cannot be this build's backend, or null when it can.
 * @param {string} url
 * @param {boolean} release
 * @returns {string | null}
 */
function backendUrlProblem(url, release) {
  const match = /^(https?):\/\/(\[[^\]]+\]|[^/:?#]+)(?::\d+)?(\/[^?#]*)?$/i.exec(url.trim());
  if (!match) return `not an http(s) URL without query or fragment: ${JSON.stringify(url)}`;
  if (!release) return null;
  const scheme = match[1] || "";
  const host = match[2] || "";
  if (isLocalHost(host)) return `a release build cannot use a local backend (${host})`;
  if (scheme.toLowerCase() !== "https") return "a release build needs an https:// backend";
  return null;
}

/** @param {string} url @returns {string} */
function normalizeBackendUrl(url) {
  return url.trim().replace(/\/+$/, "");
}

module.exports = { isLocalHost, backendUrlProblem, normalizeBackendUrl };
