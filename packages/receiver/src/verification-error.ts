/** Why a delivery was refused. Receivers answer 400/401 and log the reason, never the secret. */
export type VerificationFailure =
  | "missing_header"
  | "malformed_header"
  | "malformed_secret"
  | "timestamp_out_of_tolerance"
  | "no_matching_signature"
  | "invalid_body";

/**
 * A delivery that must not be processed. `reason` is a closed set, safe to log and to count;
 * the message never contains a secret, a key or a signature.
 */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}
