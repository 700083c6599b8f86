import { DecodeError } from "@novatrade/domain";

/** Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian int, then Avro. */
const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export function toWireFormat(schemaId: number, avroPayload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avroPayload]);
}

/**
 * Splits a Confluent wire-format message. The payload is a view on the same memory, not a
 * copy.
 * @throws DecodeError when the buffer is too short or does not start with magic byte 0.
 */
export function fromWireFormat(buffer: Buffer): { schemaId: number; avroPayload: Buffer } {
  if (!Buffer.isBuffer(buffer)) throw new DecodeError("message value is not a Buffer");
  if (buffer.length < HEADER_BYTES) {
    throw new DecodeError(`message is ${buffer.length} bytes, shorter than the ${HEADER_BYTES}-byte wire-format header`);
  }
  const magic = buffer.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new DecodeError(`message starts with magic byte ${magic}, expected ${MAGIC_BYTE} (Confluent wire format)`);
  }
  return { schemaId: buffer.readInt32BE(1), avroPayload: buffer.subarray(HEADER_BYTES) };
}
