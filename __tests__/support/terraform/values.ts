/**
 * Terraform values on the wire (`DynamicValue.msgpack`): msgpack of the value's type, with unknown
 * values as msgpack extension 0 (Terraform may also send extension 12, an unknown value with
 * refinements: both read as `UNKNOWN`). Objects are msgpack maps; lists and sets arrays.
 */
import { decode, encode, ExtData } from '@msgpack/msgpack';
import { CtyType } from './schema';

/** A value not known until apply. */
export const UNKNOWN: unique symbol = Symbol('unknown');

export type Value = null | string | number | boolean | typeof UNKNOWN | Value[] | { [key: string]: Value } | Uint8Array;

export type ObjectValue = { [key: string]: Value };

/** Decodes a msgpack `DynamicValue`; an empty buffer is null. */
export function decodeValue(bytes: Uint8Array | undefined | null): Value {
  if (bytes === undefined || bytes === null || bytes.length === 0) return null;
  return fromWire(decode(bytes));
}

function fromWire(raw: unknown): Value {
  if (raw instanceof ExtData) return UNKNOWN;
  if (raw instanceof Uint8Array) return raw;
  if (Array.isArray(raw)) return raw.map(fromWire);
  if (raw !== null && typeof raw === 'object') {
    return Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, fromWire(v)]));
  }
  return raw as Value;
}

/** Encodes a value of the given type, with every attribute of every object present (null if unset). */
export function encodeValue(value: Value, type: CtyType): Buffer {
  const bytes = encode(toWire(value, type));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toWire(value: Value, type: CtyType): unknown {
  if (value === UNKNOWN) return new ExtData(0, new Uint8Array([0]));
  if (value === null || type === 'dynamic') return value; // a dynamic value keeps the [type, value] pair Terraform sent
  if (typeof type === 'string') return value;
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') return (value as Value[]).map((v) => toWire(v, element));
  if (kind === 'map') return Object.fromEntries(Object.entries(value as ObjectValue).map(([k, v]) => [k, toWire(v, element)]));
  const attributes = element as Record<string, CtyType>;
  const object = value as ObjectValue;
  return Object.fromEntries(Object.entries(attributes).map(([name, t]) => [name, toWire(object[name] ?? null, t)]));
}

/** Whether a value is, or contains, an unknown value. */
export function containsUnknown(value: Value): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.values(value).some(containsUnknown);
  return false;
}
