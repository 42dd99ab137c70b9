import type { IncomingMessage, ServerResponse } from "node:http";
import type { AllowedOrigins } from "./allowed-origins.js";

/** What a browser on an allowed origin may send: the public token, as JSON. Never cookies. */
const allowedMethods = "GET, POST, OPTIONS";
const allowedHeaders = "content-type, x-public-token";
/** How long a browser may reuse a preflight; short, so that a removed origin stops working soon. */
const preflightMaxAgeSeconds = 600;

export const crossOriginCredentialMessage =
  "Member keys and the project secret are not accepted from another origin's browser page; a browser uses the public token (X-Public-Token).";

/**
 * SPEC §7 for /graphql: CORS for the allowed origins only (no Access-Control-Allow-Credentials,
 * ever), and no member key or project secret from a page of another origin.
 */
export class CorsGate {
  private own = { publicUrl: "", origin: "" };

  constructor(
    private readonly origins: AllowedOrigins,
    /** PUBLIC_URL, read when needed: with PORT=0 it is known only once the server listens. */
    private readonly publicUrl: () => string,
  ) {}

  /** PUBLIC_URL's origin, parsed once per value. */
  private ownOrigin(): string {
    const publicUrl = this.publicUrl();
    if (publicUrl !== this.own.publicUrl) this.own = { publicUrl, origin: new URL(publicUrl).origin };
    return this.own.origin;
  }

  /**
   * Sets the CORS headers of a /graphql response and answers a preflight. Returns true when it has
   * answered the request; the caller then asks `refusesCredentials`.
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    res.setHeader("vary", "Origin");
    const origin = req.headers.origin;
    const foreign = this.isForeign(req);
    const allowed = foreign && origin !== undefined && (await this.origins.allows(origin));
    if (allowed) res.setHeader("access-control-allow-origin", origin);
    if (req.method === "OPTIONS") {
      if (allowed) {
        res.setHeader("access-control-allow-methods", allowedMethods);
        res.setHeader("access-control-allow-headers", allowedHeaders);
        res.setHeader("access-control-max-age", String(preflightMaxAgeSeconds));
      }
      res.writeHead(204, { allow: allowedMethods });
      res.end();
      return true;
    }
    return false;
  }

  /**
   * Whether a request carries an Authorization header (a member key or the project secret) from a
   * page of another origin: refused as UNAUTHENTICATED with `crossOriginCredentialMessage`.
   */
  refusesCredentials(req: IncomingMessage): boolean {
    return hasValue(req.headers.authorization) && this.isForeign(req);
  }

  /** Whether a WebSocket upgrade may proceed: from no browser, the server's own pages, or an allowed origin. */
  async admitsWebSocket(req: IncomingMessage): Promise<boolean> {
    const origin = req.headers.origin;
    return origin === undefined || !this.isForeign(req) || (await this.origins.allows(origin));
  }

  /**
   * Whether a request (or a WebSocket upgrade) comes from a browser page of another origin: it
   * carries an Origin that is neither PUBLIC_URL's nor the request's own host (behind a proxy that
   * keeps Host, the two agree). Requests without Origin are not from a page of another origin.
   */
  isForeign(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || origin === this.ownOrigin()) return false;
    const host = req.headers.host?.toLowerCase();
    if (!host) return true;
    try {
      return new URL(origin).host !== host;
    } catch {
      return true;
    }
  }
}

function hasValue(header: string | undefined): boolean {
  return header !== undefined && header.trim() !== "";
}
