import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError, NovatradeError } from "@novatrade/domain";

/** A stored secret could not be opened: wrong key, or the record was tampered with. */
export class SecretDecryptionError extends NovatradeError {
  constructor(options: { cause?: unknown } = {}) {
    super("signing secret could not be decrypted (wrong ENDPOINT_SECRETS_KEY or tampered record)", {
      retriable: false,
      cause: options.cause,
    });
  }
}

const FORMAT = "v1";

/**
 * Encrypts signing secrets at rest (SPEC §7): AES-256-GCM, a fresh 96-bit IV per secret, the
 * endpoint id as associated data so a ciphertext copied onto another endpoint does not open.
 * Stored as `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** @param keyBase64 32 random bytes, base64 (ENDPOINT_SECRETS_KEY). */
  static fromBase64Key(keyBase64: string): SecretBox {
    const key = Buffer.from(keyBase64, "base64");
    if (key.length !== 32) throw new ConfigError("ENDPOINT_SECRETS_KEY: must be 32 bytes, base64-encoded");
    return new SecretBox(key);
  }

  seal(plaintext: string, endpointId: string, iv: Buffer = randomBytes(12)): string {
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(endpointId, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  open(sealed: string, endpointId: string): string {
    const [format, iv, tag, ciphertext] = sealed.split(".");
    if (format !== FORMAT || !iv || !tag || ciphertext === undefined) throw new SecretDecryptionError();
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(endpointId, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new SecretDecryptionError({ cause: error });
    }
  }

  /** Secrets never reach a log, not even through an accidental `logger.info({ box })`. */
  toJSON(): string {
    return "[SecretBox]";
  }
}
