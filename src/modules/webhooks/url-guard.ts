import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { httpUrl } from "../../graphql/validation.js";

/**
 * SSRF guard for webhook URLs. Unless private URLs are allowed (always outside production, or
 * WEBHOOK_ALLOW_PRIVATE_URLS=true), a webhook may not reach loopback, private, link-local,
 * carrier-grade NAT, multicast, reserved or unspecified addresses: neither by a literal address in
 * its URL (refused when the endpoint is saved, and again before each send) nor by a DNS name that
 * resolves to one (checked on the addresses the connection will actually use, at delivery time,
 * so a DNS answer that changes after the endpoint was saved cannot sneak through).
 */

const ipv4Blocked: Array<[number, number]> = [
  [ipv4("0.0.0.0"), 8], // "this network", incl. the unspecified address
  [ipv4("10.0.0.0"), 8], // private
  [ipv4("100.64.0.0"), 10], // carrier-grade NAT
  [ipv4("127.0.0.0"), 8], // loopback
  [ipv4("169.254.0.0"), 16], // link-local (cloud metadata services live here)
  [ipv4("172.16.0.0"), 12], // private
  [ipv4("192.0.0.0"), 24], // IETF protocol assignments
  [ipv4("192.168.0.0"), 16], // private
  [ipv4("198.18.0.0"), 15], // benchmarking
  [ipv4("224.0.0.0"), 4], // multicast
  [ipv4("240.0.0.0"), 4], // reserved, incl. broadcast
];

function ipv4(text: string): number {
  const parts = text.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function ipv4InBlockedRange(address: number): boolean {
  return ipv4Blocked.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (address & mask) >>> 0 === (base & mask) >>> 0;
  });
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or null if it is not one. */
function ipv6Groups(text: string): number[] | null {
  let address = text.split("%")[0]!;
  const groups: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  let tail: number[] = [];
  if (dotted) {
    if (isIP(dotted[1]!) !== 4) return null;
    const v4 = ipv4(dotted[1]!);
    tail = [v4 >>> 16, v4 & 0xffff];
    address = address.slice(0, -dotted[1]!.length);
    if (address.endsWith(":") && !address.endsWith("::")) address = address.slice(0, -1);
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length - tail.length;
  if (halves.length === 1 && missing !== 0) return null;
  if (missing < 0) return null;
  groups.push(...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest, ...tail);
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group) || group < 0 || group > 0xffff)) return null;
  return groups;
}

/** True for addresses a webhook must not reach when private URLs are not allowed. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const kind = isIP(bare.split("%")[0]!);
  if (kind === 4) return ipv4InBlockedRange(ipv4(bare));
  if (kind !== 6) return false;
  const g = ipv6Groups(bare);
  if (!g) return true; // unparseable: refuse rather than guess
  const embeddedV4 = ((g[6]! << 16) | g[7]!) >>> 0;
  const firstSixZero = g.slice(0, 6).every((x) => x === 0);
  if (g.every((x) => x === 0)) return true; // :: unspecified
  if (firstSixZero && g[6] === 0 && g[7] === 1) return true; // ::1 loopback
  if (firstSixZero) return ipv4InBlockedRange(embeddedV4); // IPv4-compatible ::a.b.c.d
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return ipv4InBlockedRange(embeddedV4); // IPv4-mapped
  if (g.slice(0, 4).every((x) => x === 0) && g[4] === 0xffff && g[5] === 0) return ipv4InBlockedRange(embeddedV4); // IPv4-translated ::ffff:0:a.b.c.d
  if (g[0] === 0x0064 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4InBlockedRange(embeddedV4); // NAT64
  if (g[0] === 0x2002) return ipv4InBlockedRange(((g[1]! << 16) | g[2]!) >>> 0); // 6to4
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0]! & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/** Why a URL's literal host is refused, or null when it is not (DNS names are checked later). */
export function literalHostRefusal(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return `"${host}" is a loopback name`;
  if (isIP(host.split("%")[0]!) && isPrivateAddress(host)) return `${host} is a loopback, private, link-local or reserved address`;
  return null;
}

/**
 * Checks and normalises a webhook URL: absolute http(s), no credentials, and — unless private
 * URLs are allowed — no literal private host. Throws BAD_USER_INPUT.
 */
export function validateWebhookUrl(value: string | null | undefined, allowPrivate: boolean): string {
  const url = httpUrl(value, "url");
  if (!allowPrivate) {
    // The host is not repeated back: the message says what is wrong, not what was sent.
    if (literalHostRefusal(url.hostname)) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `"url" must not point to a loopback, private, link-local or reserved address.`);
    }
  }
  return url.toString();
}

export class WebhookUrlRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookUrlRefusedError";
  }
}

/**
 * A `lookup` for http.request that resolves normally and refuses the connection if any address
 * is private: the check applies to the very addresses the socket connects to.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    const refused = addresses.find((entry) => isPrivateAddress(entry.address));
    if (refused || addresses.length === 0) {
      const reason = refused ? `${hostname} resolves to ${refused.address}, a private address` : `${hostname} has no address`;
      return callback(new WebhookUrlRefusedError(`refused: ${reason}`) as NodeJS.ErrnoException, "", 0);
    }
    if (options.all) return (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
};
