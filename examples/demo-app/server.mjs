/**
 * A tiny application that uses @masquerade/client end to end (README, "Client SDK"):
 *
 *   GET  /authenticate   the login redirect page: authenticateByUrl() exchanges the launch link's token
 *   GET  /               the app, with the impersonation banner
 *   GET  /api/me         a backend route guarded by sessions.authenticateJwt (local, no request to Masquerade)
 *   GET  /api/session    the same, but asks Masquerade (sessions.authenticate): a revocation shows at once
 *   POST /api/notes      a write, guarded by requireWritable: refused for a read-only impersonation
 *
 * Plain node:http, no framework, no bundler: the browser loads the SDK's ES modules from /sdk/.
 */
import { createReadStream, existsSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MasqueradeClient, MasqueradeError, requireWritable } from "@masquerade/client";
import { loadDemoConfig } from "./config.mjs";
import { appPage, loginPage } from "./pages.mjs";

let config;
try {
  config = loadDemoConfig();
} catch (error) {
  console.error(`demo app cannot start: ${error.message}`);
  process.exit(1);
}

const masquerade = new MasqueradeClient({ url: config.masqueradeUrl, projectId: config.projectId, projectSecret: config.projectSecret });

const staticDir = join(dirname(fileURLToPath(import.meta.url)), "public");
// The browser entry of the SDK and the modules next to it (dist/), served as they are.
const sdkDir = dirname(fileURLToPath(import.meta.resolve("@masquerade/client/browser")));
const masqueradeOrigin = new URL(config.masqueradeUrl).origin;

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `connect-src 'self' ${masqueradeOrigin}`,
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const types = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, JSON.stringify(value), { "content-type": "application/json" });
}

function sendHtml(res, html) {
  // no-referrer: the login page's address holds the one-shot token until its script removes it.
  send(res, 200, html, { "content-type": "text/html; charset=utf-8", "content-security-policy": contentSecurityPolicy, "referrer-policy": "no-referrer" });
}

/** A file under `dir` (path segments of letters, digits, `_`, `-` and `.`, none starting with a dot: no traversal), or 404. */
function sendFile(res, dir, name) {
  const extension = name.slice(name.lastIndexOf("."));
  const path = join(dir, name);
  if (!/^[\w-][\w.-]*(\/[\w-][\w.-]*)*$/.test(name) || !(extension in types) || !existsSync(path)) return send(res, 404, "not found");
  res.writeHead(200, { "content-type": types[extension], "cache-control": "no-store", "x-content-type-options": "nosniff" });
  createReadStream(path).pipe(res);
}

/** The session JWT the page sends as `Authorization: Bearer <jwt>`. */
function bearer(req) {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
  return match ? match[1] : "";
}

const statusOf = (code) => (code === "IMPERSONATION_READ_ONLY" ? 403 : code === "NETWORK_ERROR" ? 503 : 401);

async function api(req, res, handler) {
  try {
    sendJson(res, 200, await handler());
  } catch (error) {
    if (!(error instanceof MasqueradeError)) throw error;
    sendJson(res, statusOf(error.code), { code: error.code, message: error.message });
  }
}

const notes = [];

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://demo");
  const route = `${req.method} ${url.pathname}`;
  try {
    if (route === "GET /") return sendHtml(res, appPage(config));
    if (route === "GET /authenticate") return sendHtml(res, loginPage(config));
    if (req.method === "GET" && url.pathname.startsWith("/static/")) return sendFile(res, staticDir, url.pathname.slice("/static/".length));
    if (req.method === "GET" && url.pathname.startsWith("/sdk/")) return sendFile(res, sdkDir, url.pathname.slice("/sdk/".length));

    // Local check: verifies the JWT against Masquerade's cached keys, no request on the hot path.
    if (route === "GET /api/me") return api(req, res, async () => ({ session: await masquerade.sessions.authenticateJwt(bearer(req)) }));
    // Server check: asks Masquerade, so a revoked session is refused at once.
    if (route === "GET /api/session") return api(req, res, async () => ({ session: (await masquerade.sessions.authenticate({ sessionJwt: bearer(req) })).session }));
    if (route === "POST /api/notes") {
      return api(req, res, async () => {
        const session = await masquerade.sessions.authenticateJwt(bearer(req));
        requireWritable(session);
        notes.push({ by: session.impersonator.email, as: session.userId, at: new Date().toISOString() });
        return { saved: true, notes: notes.length };
      });
    }
    send(res, 404, "not found");
  } catch (error) {
    console.error("demo app:", error);
    if (!res.headersSent) send(res, 500, "internal error");
  }
});

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  const origin = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  // One JSON line first (tests read it), then words for people.
  console.log(JSON.stringify({ demoApp: origin }));
  console.log(`Demo app on ${origin}; its login redirect URL is ${origin}/authenticate (Masquerade at ${config.masqueradeUrl})`);
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
