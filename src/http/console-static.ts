import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the console is served (SPEC §3): `/console` and every path under it. */
export const consolePath = "/console";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite names every file of `assets/` after a hash of its content: a URL there never changes meaning. */
const immutable = "public, max-age=31536000, immutable";

export interface ConsoleStaticOptions {
  /** The built console (vite's output). Absent or missing: /console explains how to build it. */
  directory: string | undefined;
}

/**
 * Serves the staff console's built files under /console: the file when it exists, index.html for
 * any other path without a file extension (the single-page app's own routes), 404 for a missing
 * asset. Every answer carries the console's Content-Security-Policy and security headers; no path
 * escapes the directory.
 */
export function createConsoleRoute(options: ConsoleStaticOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const root = options.directory === undefined ? undefined : resolve(options.directory);
  return (req, res) => {
    setSecurityHeaders(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("Method not allowed.\n");
      return;
    }
    const indexFile = root && join(root, "index.html");
    if (!root || !indexFile || !existsSync(indexFile)) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The staff console is not built: run `npm run build` (npm start does it).\n");
      return;
    }
    const relative = relativePath(req.url ?? "/");
    if (relative === null) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end("Bad request path.\n");
      return;
    }
    if (relative === "" || relative === "index.html") {
      sendFile(req, res, indexFile, "no-cache");
      return;
    }
    const file = resolve(root, relative);
    // resolve() has already folded any "..": a file outside the directory is not the console's.
    if (!file.startsWith(root + sep)) {
      notFound(res);
      return;
    }
    if (isFile(file)) {
      sendFile(req, res, file, relative.startsWith("assets/") ? immutable : "no-cache");
    } else if (extname(relative) === "" && !relative.startsWith("assets/")) {
      sendFile(req, res, indexFile, "no-cache");
    } else {
      notFound(res);
    }
  };
}

/** The request path below /console/, percent-decoded; null when it cannot be decoded or holds a NUL or a backslash. */
function relativePath(target: string): string | null {
  const pathname = target.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  if (decoded === consolePath) return "";
  return decoded.startsWith(`${consolePath}/`) ? decoded.slice(consolePath.length + 1) : null;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
  const type = contentTypes[extname(file).toLowerCase()] ?? "application/octet-stream";
  const size = statSync(file).size;
  res.writeHead(200, { "content-type": type, "content-length": size, "cache-control": cacheControl });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("Not found.\n");
}

/** A Host header fit to be repeated in a header: a host name or address and an optional port. */
const plainHost = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The console's Content-Security-Policy: everything from the server itself, nothing inline, no
 * framing. connect-src names the WebSocket of the live feed explicitly (older engines do not count
 * ws: as 'self').
 */
export function consoleContentSecurityPolicy(host: string | undefined): string {
  const sockets = host && plainHost.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("content-security-policy", consoleContentSecurityPolicy(req.headers.host));
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("x-frame-options", "DENY");
  // The console's URLs hold no secret, but the pages it opens (launch URLs) get no referrer either.
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("cross-origin-opener-policy", "same-origin");
  res.setHeader("cross-origin-resource-policy", "same-origin");
  res.setHeader("permissions-policy", "camera=(), microphone=(), geolocation=()");
}

/**
 * The built console of this installation: `dist/console` of the package the running code belongs
 * to (found by walking up to the package.json named "masquerade"), or undefined.
 */
export function defaultConsoleDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "masquerade") return join(dir, "dist", "console");
      } catch {
        // Not a package.json we can read: keep walking up.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
