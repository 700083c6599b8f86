import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { classifyAddress, isAddressAllowed, validateEndpointUrl, type AddressKind } from "./address-guard.js";

describe("classifyAddress", () => {
  it.each<[string, AddressKind]>([
    // IPv4
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["93.184.216.34", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.0", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["100.128.0.0", "public"],
    ["100.100.100.200", "metadata"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "metadata"],
    ["169.254.0.1", "link_local"],
    ["168.63.129.16", "metadata"],
    ["172.15.255.255", "public"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["192.0.0.8", "reserved"],
    ["192.0.0.192", "metadata"],
    ["192.0.2.1", "documentation"],
    ["192.88.99.1", "reserved"],
    ["192.168.1.1", "private"],
    ["192.169.0.1", "public"],
    ["198.17.255.255", "public"],
    ["198.18.0.1", "benchmark"],
    ["198.19.255.255", "benchmark"],
    ["198.20.0.0", "public"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["223.255.255.255", "public"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:8.8.8.8", "public"],
    ["0:0:0:0:0:ffff:c0a8:0101", "private"],
    ["::127.0.0.1", "reserved"],
    ["::2", "reserved"],
    ["64:ff9b::8.8.8.8", "public"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b:1::1", "private"],
    ["100::1", "reserved"],
    ["2001:db8::1", "documentation"],
    ["2001::1", "reserved"],
    ["2001:1ff::1", "reserved"],
    ["2002:0808:0808::1", "public"],
    ["2002:7f00:0001::1", "loopback"],
    ["2002:c0a8:0101::1", "private"],
    ["3fff::1", "documentation"],
    ["2606:4700:4700::1111", "public"],
    ["2a00:1450:4001:81c::200e", "public"],
    ["fc00::1", "private"],
    ["fd12:3456:789a::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fd00:ec2::253", "private"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["4000::1", "reserved"],
    ["5f00::1", "reserved"],
  ])("%s is %s", (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it.each([["localhost"], ["256.0.0.1"], ["1.2.3"], ["0x7f.0.0.1"], ["017.0.0.1"], [""], ["::g"], ["1.2.3.4.5"]])("%j is not an address", (ip) => {
    expect(() => classifyAddress(ip)).toThrowError(ValidationError);
  });
});

describe("isAddressAllowed", () => {
  const none = {};
  const loopback = { allowLoopback: true };
  const priv = { allowPrivate: true };
  const both = { allowLoopback: true, allowPrivate: true };
  it.each<[string, boolean, boolean, boolean, boolean]>([
    // ip, default, allowLoopback, allowPrivate, both
    ["8.8.8.8", true, true, true, true],
    ["2606:4700:4700::1111", true, true, true, true],
    ["127.0.0.1", false, true, false, true],
    ["::1", false, true, false, true],
    ["::ffff:127.0.0.1", false, true, false, true],
    ["10.0.0.1", false, false, true, true],
    ["fd12::1", false, false, true, true],
    ["100.64.1.1", false, false, true, true],
    ["169.254.169.254", false, false, false, false],
    ["fd00:ec2::254", false, false, false, false],
    ["::ffff:169.254.169.254", false, false, false, false],
    ["169.254.1.1", false, false, false, false],
    ["fe80::1", false, false, false, false],
    ["0.0.0.0", false, false, false, false],
    ["::", false, false, false, false],
    ["224.0.0.1", false, false, false, false],
    ["255.255.255.255", false, false, false, false],
    ["192.0.2.1", false, false, false, false],
    ["198.18.0.1", false, false, false, false],
    ["240.0.0.1", false, false, false, false],
    ["not-an-ip", false, false, false, false],
  ])("%s", (ip, byDefault, withLoopback, withPrivate, withBoth) => {
    expect([none, loopback, priv, both].map((policy) => isAddressAllowed(ip, policy))).toEqual([byDefault, withLoopback, withPrivate, withBoth]);
  });

  it("defaults to the strictest policy", () => {
    expect(isAddressAllowed("127.0.0.1")).toBe(false);
  });
});

describe("validateEndpointUrl", () => {
  it.each([
    ["https://example.com/webhooks", {}],
    ["https://example.com:8443/hooks?tenant=1", {}],
    ["https://8.8.8.8/hook", {}],
    ["https://[2606:4700:4700::1111]/hook", {}],
    ["http://example.com/hook", { allowHttp: true }],
    ["http://127.0.0.1:9000/hook", { allowHttp: true, allowLoopback: true }],
    ["http://localhost:9000/hook", { allowHttp: true, allowLoopback: true }],
    ["https://10.0.0.5/hook", { allowPrivate: true }],
  ])("accepts %s with %j", (url, policy) => {
    expect(validateEndpointUrl(url, policy).href).toBe(new URL(url).href);
  });

  it.each([
    ["http://example.com/hook", {}, /must use https/],
    ["ftp://example.com/hook", { allowHttp: true }, /must use https or http/],
    ["example.com/hook", {}, /absolute URL/],
    ["/relative", {}, /absolute URL/],
    ["", {}, /non-empty/],
    [42, {}, /non-empty/],
    ["https://user:pass@example.com/hook", {}, /credentials/],
    ["https://user@example.com/hook", {}, /credentials/],
    ["https://example.com/hook#frag", {}, /fragment/],
    [`https://example.com/${"a".repeat(2048)}`, {}, /at most 2048/],
    ["https://127.0.0.1/hook", {}, /loopback address/],
    ["https://0x7f000001/hook", {}, /loopback address/],
    ["https://[::1]/hook", {}, /loopback address/],
    ["https://[::ffff:127.0.0.1]/hook", {}, /loopback address/],
    ["https://localhost/hook", {}, /localhost/],
    ["https://api.localhost./hook", {}, /localhost/],
    ["https://169.254.169.254/latest/meta-data", { allowLoopback: true, allowPrivate: true }, /metadata address/],
    ["https://[fd00:ec2::254]/", { allowLoopback: true, allowPrivate: true }, /metadata address/],
    ["https://192.168.0.10/hook", { allowLoopback: true }, /private address/],
    ["https://0.0.0.0/hook", { allowLoopback: true }, /unspecified address/],
  ])("rejects %j with %j", (url, policy, message) => {
    let caught: unknown;
    try {
      validateEndpointUrl(url, policy, "URL");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe("URL");
    expect((caught as ValidationError).message).toMatch(message);
  });
});
