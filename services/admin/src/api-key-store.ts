import { randomUUID } from "node:crypto";
import type { Database } from "@novatrade/database";
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey, type ApiKeyKind } from "./api-key.js";

/** Who is calling: an organization's key, or an operator's. */
export type Caller =
  | { kind: "organization"; organizationUuid: string; keyId: string; name: string }
  | { kind: "operator"; organizationUuid: null; keyId: string; name: string };

/** A key as listed: never the key or its hash. */
export interface ApiKeyView {
  keyId: string;
  prefix: string;
  kind: ApiKeyKind;
  organizationUuid: string | null;
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

interface ApiKeyRow {
  key_id: string;
  prefix: string;
  key_hash: Buffer;
  kind: ApiKeyKind;
  organization_uuid: string | null;
  name: string;
  created_at: Date;
  revoked_at: Date | null;
}

const BOOTSTRAP_KEY_ID = "key_bootstrap";

function view(row: ApiKeyRow): ApiKeyView {
  return {
    keyId: row.key_id,
    prefix: row.prefix,
    kind: row.kind,
    organizationUuid: row.organization_uuid,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** API keys in PostgreSQL: a SHA-256 hash and a display prefix per key, never the key itself. */
export class ApiKeyStore {
  readonly #bootstrapHash: Buffer | null;

  constructor(
    private readonly db: Database,
    private readonly now: () => number,
    /** ADMIN_BOOTSTRAP_OPERATOR_KEY; empty for none. */
    bootstrapOperatorKey: string,
  ) {
    this.#bootstrapHash = bootstrapOperatorKey === "" ? null : hashApiKey(bootstrapOperatorKey);
  }

  /** The caller a presented key speaks for; null when it is unknown or revoked. */
  async authenticate(presented: string): Promise<Caller | null> {
    if (this.#bootstrapHash && apiKeyMatches(presented, this.#bootstrapHash)) {
      return { kind: "operator", organizationUuid: null, keyId: BOOTSTRAP_KEY_ID, name: "bootstrap operator key" };
    }
    const prefix = apiKeyPrefix(presented);
    if (prefix === null) return null;
    const row = (await this.db("api_keys").where({ prefix }).first()) as ApiKeyRow | undefined;
    // Compare even when nothing matched, so a missing prefix costs the same time as a wrong key.
    const matches = apiKeyMatches(presented, row?.key_hash ?? Buffer.alloc(32));
    if (!row || !matches || row.revoked_at !== null) return null;
    return row.kind === "operator"
      ? { kind: "operator", organizationUuid: null, keyId: row.key_id, name: row.name }
      : { kind: "organization", organizationUuid: row.organization_uuid!, keyId: row.key_id, name: row.name };
  }

  /** Whether a key (by id) still works: a portal session signed in with it ends when it is revoked. */
  async isActive(keyId: string): Promise<boolean> {
    if (keyId === BOOTSTRAP_KEY_ID) return this.#bootstrapHash !== null;
    const row = (await this.db("api_keys").select("revoked_at").where({ key_id: keyId }).first()) as { revoked_at: Date | null } | undefined;
    return row !== undefined && row.revoked_at === null;
  }

  /** Creates a key; the returned `key` is the only time it exists outside the caller's hands. */
  async create(input: { kind: ApiKeyKind; organizationUuid: string | null; name: string }): Promise<ApiKeyView & { key: string }> {
    const generated = generateApiKey(input.kind);
    const row: ApiKeyRow = {
      key_id: `key_${randomUUID().replaceAll("-", "")}`,
      prefix: generated.prefix,
      key_hash: generated.hash,
      kind: input.kind,
      organization_uuid: input.organizationUuid?.toLowerCase() ?? null,
      name: input.name,
      created_at: new Date(this.now()),
      revoked_at: null,
    };
    await this.db("api_keys").insert(row);
    return { ...view(row), key: generated.key };
  }

  /** Keys visible to the caller: its organization's, or (operators) all or one organization's. */
  async list(scope: { organizationUuid: string | null }): Promise<ApiKeyView[]> {
    const query = this.db("api_keys").orderBy([{ column: "created_at", order: "asc" }, { column: "key_id" }]);
    if (scope.organizationUuid !== null) query.where({ organization_uuid: scope.organizationUuid.toLowerCase() });
    return ((await query) as ApiKeyRow[]).map(view);
  }

  /** Revokes a key in scope; null when there is none (or it is another organization's). */
  async revoke(keyId: string, scope: { organizationUuid: string | null }): Promise<ApiKeyView | null> {
    const query = this.db("api_keys").where({ key_id: keyId });
    if (scope.organizationUuid !== null) query.where({ organization_uuid: scope.organizationUuid.toLowerCase() });
    const [row] = (await query.update({ revoked_at: this.db.raw("COALESCE(revoked_at, ?)", [new Date(this.now())]) as unknown as Date }).returning("*")) as ApiKeyRow[];
    return row ? view(row) : null;
  }
}
