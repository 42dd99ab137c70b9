import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import sirv, { type RequestHandler } from "sirv";

/** Where the console is served (SPEC §3): `/console` and every path under it. */
export const consolePath = "/console";

/** Vite names every file of `assets/` after a hash of its content: a URL there never changes meaning. */
const immutable = "public, max-age=31536000, immutable";

export interface ConsoleStaticOptions {
  /** The built console (vite's output). Absent or missing: /console explains how to build it. */
  directory: string | undefined;
}

/**
 * Serves the staff console's built files under /console with sirv: the file when it exists (its
 * type, ETag and 304), index.html for any other path without a file extension (the single-page
 * app's own routes), 404 for a missing asset, a missing file with an extension or a dotfile. Every
 * answer carries the console's Content-Security-Policy and security headers.
 *
 * The hand-written part is only what sirv lacks, each a gap seen in its source (3.0.2) and pinned by
 * test/console-static.test.ts: sirv answers every method (here 405 but GET and HEAD); it swallows an
 * undecodable path (here 400); it serves from `/`, not `/console`; it takes one Cache-Control for
 * every file (here index.html is revalidated, `assets/` immutable); and it answers a path spelled to
 * leave the directory (`//etc/passwd`, `%2e%2e/x`) with index.html (here 404, as any non-canonical path).
 */
export function createConsoleRoute(options: ConsoleStaticOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const root = options.directory === undefined ? undefined : resolve(options.directory);
  const files = root === undefined ? undefined : new BuiltConsole(root);
  return (req, res) => {
    setSecurityHeaders(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("Method not allowed.\n");
      return;
    }
    const serve = files?.handler();
    if (!serve) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The staff console is not built: run `npm run build` (npm start does it).\n");
      return;
    }
    const path = pathBelowConsole(req.url ?? "/");
    if (path === null) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end("Bad request path.\n");
      return;
    }
    if (!path.canonical) {
      notFound(req, res);
      return;
    }
    // Set before sirv runs, so that its 304 carries it too, and over the server's default no-store.
    res.setHeader("cache-control", path.decoded.startsWith("/assets/") ? immutable : "no-cache");
    // sirv writes any open error of its file stream to no listener, which would end the process
    // (seen with a file deleted after the listing): this response ends instead.
    res.once("pipe", (source: NodeJS.ReadableStream) => source.once("error", () => res.destroy()));
    // sirv reads the path from req.url and the Range header from req.headers: it sees the path below
    // /console and no Range (it reads `bytes=-500` as the first 501 bytes; the console's files are
    // small and never fetched in parts), while the request itself stays as it came.
    const view = Object.create(req, { url: { value: path.raw }, headers: { value: { ...req.headers, range: undefined } } }) as IncomingMessage;
    serve(view, res);
  };
}

/**
 * The built directory as sirv serves it. sirv (outside its dev mode, which it says is not for
 * production) lists the directory's files once; a console built after the server started, or built
 * again in place (vite rewrites index.html on every build), is listed again, so no answer names a
 * file that is gone or a length it no longer has.
 */
class BuiltConsole {
  private served: { build: string; handler: RequestHandler } | undefined;

  constructor(private readonly root: string) {}

  /** The handler for the directory as it is now; undefined while it holds no index.html. */
  handler(): RequestHandler | undefined {
    let build: string;
    try {
      const index = statSync(join(this.root, "index.html"));
      if (!index.isFile()) return undefined;
      build = `${index.ino}:${index.size}:${index.mtimeMs}`;
    } catch {
      return undefined;
    }
    if (this.served?.build !== build) {
      const handler = sirv(this.root, {
        single: true,
        etag: true,
        // sirv finds index.html (for `/` and the fallback) as "index" plus one of these; only .html.
        extensions: ["html"],
        // Never index.html for these: anything under assets/, and a last segment with a dot in it: a
        // file with an extension (sirv's own rule misses names such as `a@b.json`) or a dotfile
        // (which sirv leaves out of its listing).
        ignores: ["^/assets/", "[.][^/]*$"],
        onNoMatch: notFound,
      });
      this.served = { build, handler };
    }
    return this.served.handler;
  }
}

interface ConsolePath {
  /** As the request spelled it, below /console: what sirv is given (it decodes it itself). */
  raw: string;
  /** Percent-decoded. */
  decoded: string;
  /** No empty, "." or ".." segment (one trailing slash allowed): only such a path can name a file or route. */
  canonical: boolean;
}

/** The request path below /console; null when it cannot be decoded or holds a NUL or a backslash. */
function pathBelowConsole(target: string): ConsolePath | null {
  const pathname = target.split(/[?#]/, 1)[0]!;
  if (pathname !== consolePath && !pathname.startsWith(`${consolePath}/`)) return null;
  const raw = pathname.slice(consolePath.length) || "/";
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const inner = decoded.slice(1).replace(/\/$/, "");
  const canonical = inner === "" || inner.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
  return { raw, decoded, canonical };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
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
