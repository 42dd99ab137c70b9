import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import proxyaddr from "proxy-addr";
import type { TrustProxySetting } from "../config.js";

/** The address of the client behind a request (HTTP, or a WebSocket's upgrade request). */
export type ClientAddressOf = (request: IncomingMessage) => string | null;

/**
 * SPEC §7: the socket peer, or — when the peer is a trusted proxy — the first untrusted hop of
 * X-Forwarded-For, read right to left by proxy-addr exactly as Express's `trust proxy` does. An
 * untrusted peer's header is never read, so forging it changes nothing.
 */
export function createClientAddressOf(setting: TrustProxySetting): ClientAddressOf {
  if ("hops" in setting && setting.hops === 0) return (request) => request.socket.remoteAddress ?? null;
  const trust = "hops" in setting ? hopCount(setting.hops) : proxyaddr.compile(setting.addresses);
  return (request) => {
    const peer = request.socket.remoteAddress;
    if (!peer) return null;
    // [peer, nearest proxy's client, …, the first untrusted hop]
    const hops = proxyaddr.all(request, trust);
    // A trusted proxy vouches for an address, not for arbitrary text: an entry that is not an IP
    // (a port appended, garbage) never becomes the client address, the nearest real one does.
    for (let i = hops.length - 1; i > 0; i--) {
      if (isIP(hops[i]!)) return hops[i]!;
    }
    return peer;
  };
}

/** Express's reading of a number: trust the socket peer and the next `count - 1` hops. */
function hopCount(count: number): (address: string, index: number) => boolean {
  return (_address, index) => index < count;
}
