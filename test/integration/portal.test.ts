import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { adminEnv, apiClient, organizationKey, startTestAdmin, TEST_BOOTSTRAP_KEY, VIES, type TestAdmin } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName, projectorEnv, startTestProjector, type TestProjector } from "../support/projector.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The integrator portal in a real browser (Debian's chromium through playwright-core; nothing
 * downloads a browser) against the admin, router, sender and projector on the real broker,
 * registry and PostgreSQL, with a loopback receiver that can be made to fail. Screenshots of
 * the main pages go to .local/test-results/portal/ (copies are kept in docs/portal/screenshots/).
 */

const ORG_A = "0a0a0a0a-7777-4777-8777-444455556666";
const ORG_B = "0b0b0b0b-7777-4777-8777-444455556666";
const CHROMIUM = process.env.PORTAL_TEST_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../.local/test-results/portal");
const WAIT_MS = 60_000;

let pipeline: Pipeline;
let projector: TestProjector;
let admin: TestAdmin;
let browser: Browser;
let page: Page;
let receiver: Receiver;
let receiverFails = false;
const schema = newSchemaName();
let keyA: string;
let keyIdA: string;
let endpointB: string;
let endpointA: string;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  pipeline = await startPipeline();
  await pipeline.startRouter();
  await pipeline.startSender();
  projector = await startTestProjector(projectorEnv(pipeline, schema));
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  ({ key: keyA, keyId: keyIdA } = await organizationKey(admin.url, ORG_A, "portal test key"));
  const { key: keyB } = await organizationKey(admin.url, ORG_B);
  const createdB = await apiClient(admin.url, keyB)("POST", "/v1/endpoints", { url: "http://127.0.0.1:9/b", eventTypes: ["kyc.*"], description: "org B's" });
  expect(createdB.status).toBe(201);
  endpointB = createdB.body.endpointId;
  receiver = await startReceiver(() => (receiverFails ? { status: 503, body: "down for maintenance" } : { status: 200, body: "thanks" }));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
});

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await projector?.stop();
  await receiver?.close();
  await pipeline?.close();
  await dropSchema(schema);
});

/** The catalog is long: its screenshot is the first screen only. */
const shot = (name: string, fullPage = true) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });

/** The row of the deliveries list for an event, once it shows `status`. */
function deliveryRow(eventIdPrefix: string, status: string) {
  return page.locator(`#deliveries tr.delivery[data-event-id^="${eventIdPrefix}"]`).filter({ has: page.locator(`.status.${status}`) });
}

describe("the integrator portal", () => {
  test("sign in with the organization's key; the page never holds the key, the cookie is HttpOnly and SameSite=Strict, and the CSP is strict", async () => {
    const answer = await page.goto(`${admin.url}/portal`);
    expect(page.url()).toBe(`${admin.url}/portal/sign-in`);
    expect(answer?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.fill("#key", "nvk_o_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    await page.click("button[type=submit]");
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("unknown or revoked");
    await shot("sign-in");
    await page.fill("#key", keyA);
    await page.click("main button[type=submit]");
    await page.waitForURL(`${admin.url}/portal/endpoints`);
    expect(await page.content()).not.toContain(keyA);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: "novatrade_portal", httpOnly: true, sameSite: "Strict", path: "/portal" });
    expect(cookie!.value).not.toContain(keyA.slice(20));
  });

  test("registering shows the API's validation messages, then the new secret once", async () => {
    await page.goto(`${admin.url}/portal/endpoints`);
    await page.fill("#create-endpoint #url", "ftp://example.com/hook");
    await page.fill("#create-endpoint #eventTypes", "*");
    await page.click("#create-endpoint button[type=submit]");
    const shown = await page.locator("[role=alert]").textContent();
    // The same words the API answers for the same input.
    const api = await apiClient(admin.url, keyA)("POST", "/v1/endpoints", { url: "ftp://example.com/hook", eventTypes: ["*"] });
    expect(api.status).toBe(400);
    expect(shown).toContain(api.body.detail);
    await shot("validation");

    await page.fill("#create-endpoint #url", receiver.url);
    await page.fill("#create-endpoint #eventTypes", "kyc.*");
    await page.fill("#create-endpoint #description", "portal test receiver");
    await page.click("#create-endpoint button[type=submit]");
    const secret = (await page.locator("#secret").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await shot("secret-once");
    await page.click("text=Continue to the endpoint");
    endpointA = page.url().split("/").pop()!;
    expect(endpointA).toMatch(/^ep_/);
    expect(await page.content()).not.toContain(secret);
    await waitUntil(() => pipeline.sender?.directory.get(endpointA) && pipeline.router?.directory.get(endpointA), { what: `the router and sender to see ${endpointA}` });
  });

  test("a test event shows up delivered; a failing receiver shows the failure with its status code; replaying it after the fix succeeds, with progress", async () => {
    await page.goto(`${admin.url}/portal/endpoints/${endpointA}`);
    await page.selectOption("#test-event select", "kyc.vies_check_failed");
    await page.click("#test-event button");
    await page.waitForURL(/done=test/);
    await deliveryRow("evt_test", "SUCCEEDED").first().waitFor();
    const delivered = await deliveryRow("evt_test", "SUCCEEDED").first().getAttribute("data-event-id");
    expect(receiver.eventIds()).toContain(delivered);

    // A live event (test deliveries are not replayable: their event is not in the history).
    receiverFails = true;
    const liveEventId = await pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid: ORG_A, data: VIES });
    const failed = deliveryRow(liveEventId, "FAILED_TERMINAL");
    await failed.waitFor();
    expect(await failed.locator(".status-code").textContent()).toBe("503");
    expect(await failed.textContent()).toContain("down for maintenance");
    const failedEventId = (await failed.getAttribute("data-event-id"))!;
    // Health is rendered with the page (the deliveries list refreshes itself).
    await waitUntil(async () => (await page.reload(), (await page.locator("#consecutive-failures").textContent()) !== "0"), { what: "the failures in the health", intervalMs: 500 });
    expect(await page.locator("#health").textContent()).toContain("HTTP 503");
    // The 24 h chart counts the attempts of this hour: the test event's success, the ten 503s.
    const chart = (await page.locator("svg.chart").getAttribute("aria-label"))!;
    const [, succeeded, failedAttempts] = /(\d+) succeeded, (\d+) failed/.exec(chart)!;
    expect(Number(succeeded)).toBeGreaterThanOrEqual(1);
    expect(Number(failedAttempts)).toBeGreaterThanOrEqual(1);
    await shot("endpoint-failing");

    receiverFails = false;
    const before = receiver.requests.filter((request) => request.json.id === failedEventId).length;
    await failed.locator("button", { hasText: "Replay" }).click();
    await page.waitForURL(/job=rpl_/);
    await page.locator('#replay-progress[data-state="succeeded"]').waitFor();
    await deliveryRow(failedEventId, "SUCCEEDED").first().waitFor();
    await waitUntil(() => receiver.requests.filter((request) => request.json.id === failedEventId).length > before, { what: "the replayed event at the receiver" });
    expect(receiver.requests.filter((request) => request.json.id === failedEventId).at(-1)!.headers["webhook-id"]).toBe(failedEventId);
    await shot("endpoint");

    await page.click(`#deliveries tr.delivery[data-event-id="${failedEventId}"] a`);
    await page.locator("text=Kept response").waitFor();
    await shot("delivery");
  });

  test("pausing records who paused it and why; resuming clears it", async () => {
    await page.goto(`${admin.url}/portal/endpoints/${endpointA}`);
    await page.fill("input[name=reason]", "receiver maintenance");
    await page.click("text=Pause");
    await page.waitForURL(/done=paused/);
    expect(await page.locator("#endpoint-status").textContent()).toBe("PAUSED");
    expect(await page.locator("#paused-by").textContent()).toContain("organization key “portal test key” — receiver maintenance");
    const health = await apiClient(admin.url, keyA)("GET", `/v1/endpoints/${endpointA}/health`);
    expect(health.body.pausedBy).toMatchObject({ kind: "organization", name: "portal test key", reason: "receiver maintenance" });
    await page.click("text=Resume");
    await page.waitForURL(/done=resumed/);
    expect(await page.locator("#paused-by").textContent()).toBe("—");
  });

  test("the event catalog shows each type's schema and example", async () => {
    await page.goto(`${admin.url}/portal/catalog`);
    const entry = page.locator('section[id="kyc.verification_completed"]');
    await expect(entry.textContent()).resolves.toContain("Version 2 (latest)");
    await expect(entry.textContent()).resolves.toContain('"format": "date-time"');
    await expect(entry.textContent()).resolves.toContain('"documentCountry": "DE"');
    await shot("catalog", false);
  });

  test("another organization's endpoint id in the URL is not found, though it exists", async () => {
    const answer = await page.goto(`${admin.url}/portal/endpoints/${endpointB}`);
    expect(answer?.status()).toBe(404);
    expect(await page.locator("main").textContent()).toContain("Not found");
    expect(await page.content()).not.toContain("org B's");
    // Sentinel: the id is real, and org A's own endpoint opens.
    const { key: keyB } = await organizationKey(admin.url, ORG_B);
    expect((await apiClient(admin.url, keyB)("GET", `/v1/endpoints/${endpointB}`)).status).toBe(200);
    expect((await page.goto(`${admin.url}/portal/endpoints/${endpointA}`))?.status()).toBe(200);
    await page.goto(`${admin.url}/portal/endpoints`);
    await shot("endpoints");
  });

  test("a form posted from another site is refused", async () => {
    const answer = await page.request.post(`${admin.url}/portal/endpoints/${endpointA}/pause`, { headers: { origin: "https://evil.example" }, form: { reason: "x" } });
    expect(answer.status()).toBe(403);
    // Sentinel: the same post from the portal's own origin works.
    const own = await page.request.post(`${admin.url}/portal/endpoints/${endpointA}/resume`, { headers: { origin: admin.url }, form: {} });
    expect(own.status()).toBe(200);
    expect(await page.goto(`${admin.url}/portal/endpoints/${endpointA}`).then(() => page.locator("#endpoint-status").textContent())).toBe("ACTIVE");
  });

  test("an operator's portal link signs in to that organization; a tampered one does not", async () => {
    const minted = await apiClient(admin.url, TEST_BOOTSTRAP_KEY)("POST", "/v1/portal-links", { organizationUuid: ORG_A, ttlMinutes: 5 });
    expect(minted.status).toBe(201);
    expect(minted.body.url).toMatch(new RegExp(`^${admin.url}/portal/link\\?token=`));
    const fresh = await browser.newContext();
    try {
      const linkPage = await fresh.newPage();
      expect((await linkPage.goto(`${minted.body.url}x`))?.status()).toBe(401);
      await linkPage.goto(minted.body.url);
      expect(linkPage.url()).toBe(`${admin.url}/portal/endpoints`);
      expect(await linkPage.locator("#endpoints").textContent()).toContain(endpointA);
      expect(await linkPage.locator("header").textContent()).toContain("bootstrap operator key (portal link)");
    } finally {
      await fresh.close();
    }
  });

  test("revoking the key ends the sessions signed in with it", async () => {
    expect((await page.goto(`${admin.url}/portal/endpoints`))?.url()).toBe(`${admin.url}/portal/endpoints`);
    expect((await apiClient(admin.url, keyA)("DELETE", `/v1/keys/${keyIdA}`)).status).toBe(200);
    await page.goto(`${admin.url}/portal/endpoints`);
    expect(page.url()).toBe(`${admin.url}/portal/sign-in`);
  });
});
