import { beforeAll, describe, expect, it } from "vitest";
import { SchemaRegistrationError, SchemaRegistryError } from "./codec-errors.js";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { registerSchemas } from "./register-schemas.js";
import type { CompatibilityLevel, RegisteredVersion, SchemaRegistryAdmin } from "./registry-admin.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";

/** A registry admin in memory that records calls and can refuse chosen schemas like a registry would. */
class FakeAdmin implements SchemaRegistryAdmin {
  readonly url = "memory://registry";
  readonly calls: string[] = [];
  readonly compatibility = new Map<string, CompatibilityLevel>();
  private readonly versions = new Map<string, string[]>();
  private readonly ids = new Map<string, number>();
  refuse: ((subject: string, text: string) => boolean) | undefined;

  async setCompatibility(subject: string, level: CompatibilityLevel) {
    this.calls.push(`config ${subject}`);
    this.compatibility.set(subject, level);
  }
  async findVersion(subject: string, text: string): Promise<RegisteredVersion | undefined> {
    const index = (this.versions.get(subject) ?? []).indexOf(text);
    return index < 0 ? undefined : { subject, version: index + 1, id: this.ids.get(text)! };
  }
  async register(subject: string, text: string) {
    this.calls.push(`register ${subject}`);
    if (!this.compatibility.has(subject)) throw new Error("compatibility must be set before the first version");
    if (this.refuse?.(subject, text)) {
      throw new SchemaRegistryError("registering: HTTP 409", {
        retriable: false,
        status: 409,
        errorCode: 409,
        registryMessage: "Incompatible artifact: reader type: STRING not compatible with writer type: LONG",
      });
    }
    if (!this.ids.has(text)) this.ids.set(text, this.ids.size + 1);
    this.versions.set(subject, [...(this.versions.get(subject) ?? []), text]);
    return { id: this.ids.get(text)! };
  }
}

let catalogue: SchemaCatalogue;
beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});

describe("registerSchemas", () => {
  it("sets FULL_TRANSITIVE on each subject, then registers its versions oldest first", async () => {
    const admin = new FakeAdmin();
    const registrations = await registerSchemas(admin, catalogue);
    expect(registrations).toHaveLength(catalogue.all().length);
    expect([...admin.compatibility.values()].every((level) => level === "FULL_TRANSITIVE")).toBe(true);
    const subject = "com.novatrade.events.ComplianceStatusChanged";
    expect(admin.calls.filter((call) => call.endsWith(subject))).toEqual([`config ${subject}`, `register ${subject}`, `register ${subject}`]);
    expect(registrations.filter((r) => r.subject === subject)).toMatchObject([
      { catalogueVersion: 1, registryVersion: 1, created: true, schema: "compliance.status_changed" },
      { catalogueVersion: 2, registryVersion: 2, created: true },
    ]);
    expect(registrations.find((r) => r.schema === "delivery-request")).toMatchObject({
      subject: "com.novatrade.internal.DeliveryRequest",
      catalogueVersion: null,
    });
  });

  it("changes nothing when run again", async () => {
    const admin = new FakeAdmin();
    const first = await registerSchemas(admin, catalogue);
    const registerCalls = admin.calls.filter((call) => call.startsWith("register")).length;
    const second = await registerSchemas(admin, catalogue);
    expect(admin.calls.filter((call) => call.startsWith("register")).length).toBe(registerCalls);
    expect(second.every((r) => !r.created)).toBe(true);
    expect(second.map((r) => [r.subject, r.registryVersion, r.id])).toEqual(first.map((r) => [r.subject, r.registryVersion, r.id]));
  });

  it("fails loudly, naming subject, version and the registry's reason, when a schema is refused", async () => {
    const admin = new FakeAdmin();
    const v2 = catalogue.eventSchema("kyc.verification_completed", 2)!;
    admin.refuse = (_subject, text) => text === v2.text;
    const error = await registerSchemas(admin, catalogue).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistrationError);
    expect(error).toMatchObject({ subject: v2.subject, version: 2, status: 409, errorCode: 409, retriable: false });
    expect((error as Error).message).toContain("com.novatrade.events.KycVerificationCompleted v2");
    expect((error as Error).message).toContain("STRING not compatible with writer type: LONG");
  });

  it("passes other registry failures through", async () => {
    const admin = new FakeAdmin();
    admin.setCompatibility = async () => {
      throw new SchemaRegistryError("cannot reach the schema registry", { retriable: true });
    };
    await expect(registerSchemas(admin, catalogue)).rejects.toMatchObject({ retriable: true });
  });
});
