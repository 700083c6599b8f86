import { randomBytes } from "node:crypto";
import { signToken, verifyToken } from "./signed-token.js";

/** Who is signed in to the portal, for which organization. */
export interface PortalSession {
  organizationUuid: string;
  /** `organization`: signed in with that organization's key; `operator`: with a link an operator minted. */
  kind: "organization" | "operator";
  /** The key's name, or "<operator key name> (portal link)". */
  name: string;
  /** The key signed in with; the session ends when it is revoked. Null for a link. */
  keyId: string | null;
  /** Epoch milliseconds. */
  exp: number;
}

/** What a portal link signs in to: an organization, on behalf of the operator key that minted it. */
export interface PortalLink {
  organizationUuid: string;
  /** Name of the operator key that minted it. */
  mintedBy: string;
  /** The endpoint whose page the link opens on; null: the endpoint list. */
  endpointId: string | null;
}

export const SESSION_COOKIE = "novatrade_portal";
const SESSION_PURPOSE = "portal-session";
const LINK_PURPOSE = "portal-link";

/** Signs and reads portal sessions and links with one key (each its own purpose). */
export class PortalSigner {
  readonly #key: Buffer;

  constructor(
    /** ADMIN_PORTAL_SECRET; empty: random for this process. */
    secret: string,
    private readonly now: () => number,
  ) {
    this.#key = secret === "" ? randomBytes(32) : Buffer.from(secret, "base64");
  }

  session(session: PortalSession): string {
    return signToken(this.#key, SESSION_PURPOSE, { ...session });
  }

  readSession(cookie: string | undefined): PortalSession | null {
    if (!cookie) return null;
    const claims = verifyToken(this.#key, SESSION_PURPOSE, cookie, this.now());
    if (!claims || typeof claims.organizationUuid !== "string" || (claims.kind !== "organization" && claims.kind !== "operator") || typeof claims.name !== "string") return null;
    return { organizationUuid: claims.organizationUuid, kind: claims.kind, name: claims.name, keyId: typeof claims.keyId === "string" ? claims.keyId : null, exp: claims.exp };
  }

  /** A link token: signs in to the organization until `exp` (epoch milliseconds), opening on `endpointId` if set. */
  link(link: PortalLink, exp: number): string {
    return signToken(this.#key, LINK_PURPOSE, { ...link, exp });
  }

  readLink(token: string): PortalLink | null {
    const claims = verifyToken(this.#key, LINK_PURPOSE, token, this.now());
    if (!claims || typeof claims.organizationUuid !== "string" || typeof claims.mintedBy !== "string") return null;
    return { organizationUuid: claims.organizationUuid, mintedBy: claims.mintedBy, endpointId: typeof claims.endpointId === "string" ? claims.endpointId : null };
  }
}
