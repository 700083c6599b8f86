import { isIP } from "node:net";
import { ValidationError } from "./errors.js";

/**
 * SSRF guard (SPEC §7). Endpoint URLs are chosen by integrators, so the sender must never be
 * steered at our own network: the authoritative check is on the resolved IP at connect time
 * (`isAddressAllowed` in the HTTP client's lookup), because a public hostname can resolve to a
 * private address later (DNS rebinding). `validateEndpointUrl` is the early check at registration.
 */
export type AddressKind =
  | "public"
  /** RFC 1918, IPv6 unique-local fc00::/7, deprecated site-local fec0::/10, local-use NAT64. */
  | "private"
  | "loopback"
  | "link_local"
  /** Cloud instance-metadata services; never allowed, whatever the options. */
  | "metadata"
  /** 0.0.0.0/8 and ::; connecting to 0.0.0.0 reaches the local host on Linux. */
  | "unspecified"
  | "multicast"
  | "broadcast"
  /** Carrier-grade NAT shared space 100.64.0.0/10 (also used inside cloud providers). */
  | "cgnat"
  /** 198.18.0.0/15, network benchmarking. */
  | "benchmark"
  /** TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20. */
  | "documentation"
  /** Everything else not globally routable: IETF protocol assignments, 240/4, non-2000::/3 IPv6… */
  | "reserved";

export interface AddressPolicy {
  /** Allow loopback (127/8, ::1): development and tests. Default false. */
  allowLoopback?: boolean;
  /** Allow private and CGNAT ranges: on-premise setups. Default false. */
  allowPrivate?: boolean;
}

type V4Range = readonly [base: string, bits: number, kind: AddressKind];

// First match wins: the specific entries (metadata) come before the ranges that contain them.
const V4_RANGES: readonly V4Range[] = [
  ["169.254.169.254", 32, "metadata"], // AWS, GCP, Azure, OpenStack, Oracle…
  ["168.63.129.16", 32, "metadata"], // Azure WireServer: publicly numbered but a platform endpoint
  ["100.100.100.200", 32, "metadata"], // Alibaba Cloud
  ["192.0.0.192", 32, "metadata"], // Oracle Cloud (legacy)
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "cgnat"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link_local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "reserved"], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmark"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["255.255.255.255", 32, "broadcast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = ipv4ToInt(base);
  return ip >= start && ip < start + size;
}

function classifyV4Int(ip: number): AddressKind {
  for (const [base, bits, kind] of V4_RANGES) if (inV4(ip, base, bits)) return kind;
  return "public";
}

/** The 128-bit value of a valid IPv6 address (no zone, no brackets). */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill("0"), ...restGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

type V6Range = readonly [base: string, bits: number, kind: AddressKind | "embedded_ipv4_low" | "embedded_6to4"];

const V6_RANGES: readonly V6Range[] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["::ffff:0:0", 96, "embedded_ipv4_low"], // IPv4-mapped: the socket talks IPv4 to that address
  ["64:ff9b::", 96, "embedded_ipv4_low"], // NAT64 well-known prefix: translated to that IPv4
  ["64:ff9b:1::", 48, "private"], // local-use NAT64
  ["fd00:ec2::254", 128, "metadata"], // AWS instance metadata over IPv6
  ["::", 8, "reserved"], // IPv4-compatible (deprecated) and the rest of ::/8
  ["100::", 64, "reserved"], // discard-only
  ["2001:db8::", 32, "documentation"],
  ["2001::", 23, "reserved"], // IETF protocol assignments, Teredo
  ["2002::", 16, "embedded_6to4"],
  ["3fff::", 20, "documentation"],
  ["fc00::", 7, "private"],
  ["fe80::", 10, "link_local"],
  ["fec0::", 10, "private"],
  ["ff00::", 8, "multicast"],
];

function inV6(ip: bigint, base: string, bits: number): boolean {
  const shift = BigInt(128 - bits);
  return ip >> shift === ipv6ToBigInt(base) >> shift;
}

function classifyV6(address: string): AddressKind {
  const ip = ipv6ToBigInt(address);
  for (const [base, bits, kind] of V6_RANGES) {
    if (!inV6(ip, base, bits)) continue;
    if (kind === "embedded_ipv4_low") return classifyV4Int(Number(ip & 0xffffffffn));
    if (kind === "embedded_6to4") return classifyV4Int(Number((ip >> 80n) & 0xffffffffn));
    return kind;
  }
  // Only 2000::/3 is allocated as global unicast.
  return inV6(ip, "2000::", 3) ? "public" : "reserved";
}

function normalise(ip: string): string {
  let address = ip.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  return zone < 0 ? address : address.slice(0, zone);
}

/**
 * Classifies an IPv4 or IPv6 address (brackets and a `%zone` are tolerated). IPv4-mapped,
 * NAT64 and 6to4 IPv6 addresses are classified by the IPv4 address they reach.
 * @throws ValidationError (field `address`) when `ip` is not an IP address.
 */
export function classifyAddress(ip: string): AddressKind {
  const address = normalise(ip);
  switch (isIP(address)) {
    case 4:
      return classifyV4Int(ipv4ToInt(address));
    case 6:
      return classifyV6(address);
    default:
      throw new ValidationError("address", `${JSON.stringify(ip)} is not an IP address`);
  }
}

/**
 * Whether the sender may connect to `ip`. Public addresses always; loopback and private/CGNAT
 * only when the policy says so; link-local, metadata, unspecified, multicast, broadcast,
 * documentation, benchmark and reserved addresses never. Not an IP address: false.
 */
export function isAddressAllowed(ip: string, policy: AddressPolicy = {}): boolean {
  let kind: AddressKind;
  try {
    kind = classifyAddress(ip);
  } catch {
    return false;
  }
  switch (kind) {
    case "public":
      return true;
    case "loopback":
      return policy.allowLoopback === true;
    case "private":
    case "cgnat":
      return policy.allowPrivate === true;
    default:
      return false;
  }
}

export interface EndpointUrlPolicy extends AddressPolicy {
  /** Accept `http:` as well as `https:` (development and tests only). Default false. */
  allowHttp?: boolean;
}

/** Longest endpoint URL accepted, in characters. */
export const MAX_ENDPOINT_URL_LENGTH = 2048;

/**
 * Registration-time check of an endpoint URL: absolute, `https:` (or `http:` when allowed), a
 * host, no user info (credentials would be stored and logged as part of the URL), no fragment,
 * and — when the host is an IP literal or `localhost` — an address the policy allows. Hostnames
 * are not resolved here; the sender checks resolved addresses at connect time.
 * @param field the name used in errors.
 * @returns the parsed URL.
 * @throws ValidationError naming `field`.
 */
export function validateEndpointUrl(url: unknown, policy: EndpointUrlPolicy = {}, field = "url"): URL {
  if (typeof url !== "string" || url.trim() === "") throw new ValidationError(field, "must be a non-empty string");
  if (url.length > MAX_ENDPOINT_URL_LENGTH) throw new ValidationError(field, `must be at most ${MAX_ENDPOINT_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ValidationError(field, "must be an absolute URL such as https://example.com/webhooks", { cause });
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && policy.allowHttp === true)) {
    throw new ValidationError(field, policy.allowHttp === true ? "must use https or http" : "must use https");
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new ValidationError(field, "must not contain credentials; authenticate with the signature instead");
  }
  if (parsed.hostname === "") throw new ValidationError(field, "must have a host");
  if (parsed.hash !== "") throw new ValidationError(field, "must not contain a fragment (#…)");
  const host = normalise(parsed.hostname).replace(/\.$/, "").toLowerCase();
  if (isIP(host) !== 0) {
    if (!isAddressAllowed(host, policy)) {
      throw new ValidationError(field, `points at a ${classifyAddress(host)} address, which is not allowed`);
    }
  } else if ((host === "localhost" || host.endsWith(".localhost")) && policy.allowLoopback !== true) {
    throw new ValidationError(field, "points at localhost, which is not allowed");
  }
  return parsed;
}
