/**
 * Column builders: decode one column's raw MySQL text-protocol values straight into Arrow buffers for one row
 * group. Variable-width bytes are copied as they are (never decoded to JS strings); numbers and dates are parsed
 * from ASCII. A builder throws DecodeError with the reason; the batch names the column and row.
 */
import type { MappedColumn } from '../../domain/model.js';
import {
  decimalLimit,
  parseBigInt,
  parseDate,
  parseDateTimeMicros,
  parseDecimalUnscaled,
  parseFloatAscii,
  parseSmallInt,
  writeDecimal128,
  writeInt64BigInt,
  writeInt64Number,
  ZERO_DATE,
} from './ascii.js';
import type { ColumnPayload } from './protocol.js';

export class DecodeError extends Error {}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** The value at b[s, e), for an error message. */
function text(b: Uint8Array, s: number, e: number): string {
  const t = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8');
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

export abstract class ColumnBuilder {
  protected validity: Uint8Array | null = null;
  protected nullCount = 0;
  constructor(
    protected readonly nullable: boolean,
    protected readonly capacity: number,
  ) {}

  /** Appends the value of row `i` (0-based within the batch): the bytes b[s, e) of its text-protocol value. */
  abstract appendRange(b: Uint8Array, s: number, e: number, i: number): void;

  /** Appends a NULL as row `i`. */
  appendNull(i: number): void {
    this.setNull(i);
  }

  /** Appends the value of row `i` held in a Buffer of its own (or NULL). */
  append(v: Buffer | null, i: number): void {
    if (v === null) this.appendNull(i);
    else this.appendRange(v, 0, v.length, i);
  }
  /** Hands over this batch's buffers (the builder must not be used afterwards). */
  abstract finish(length: number): ColumnPayload;
  /** Bytes held for variable-width data (fixed-width columns are bounded by the capacity). */
  varBytes(): number {
    return 0;
  }

  protected setNull(i: number): void {
    if (!this.nullable) throw new DecodeError('NULL in a column the source declares NOT NULL');
    if (this.validity === null) {
      this.validity = new Uint8Array((this.capacity + 7) >>> 3).fill(0xff);
    }
    this.validity[i >>> 3]! &= ~(1 << (i & 7));
    this.nullCount++;
  }

  protected validityPayload(length: number): Pick<ColumnPayload, 'nullCount' | 'validity'> {
    return {
      nullCount: this.nullCount,
      validity: this.validity === null ? null : this.validity.subarray(0, (length + 7) >>> 3),
    };
  }
}

/** A column of one fixed-width value per row: its batch is the first `length` values. */
abstract class FixedWidthBuilder extends ColumnBuilder {
  protected abstract readonly values: Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
  finish(length: number): ColumnPayload {
    return { ...this.validityPayload(length), values: this.values.subarray(0, length), offsets: null };
  }
}

class BoolBuilder extends ColumnBuilder {
  private readonly bits: Uint8Array;
  constructor(
    nullable: boolean,
    capacity: number,
    private readonly fromBits: boolean,
  ) {
    super(nullable, capacity);
    this.bits = new Uint8Array((capacity + 7) >>> 3);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    let on: boolean;
    if (this.fromBits) {
      on = false;
      for (let k = s; k < e; k++) if (b[k] !== 0) on = true;
    } else {
      const n = parseSmallInt(b, s, e);
      if (!Number.isFinite(n)) throw new DecodeError(`not a boolean: ${text(b, s, e)}`);
      on = n !== 0; // MySQL's BOOLEAN is TINYINT(1): any non-zero value is true
    }
    if (on) this.bits[i >>> 3]! |= 1 << (i & 7);
  }
  finish(length: number): ColumnPayload {
    return { ...this.validityPayload(length), values: this.bits.subarray(0, (length + 7) >>> 3), offsets: null };
  }
}

class SmallIntBuilder extends FixedWidthBuilder {
  protected readonly values: Int16Array | Int32Array;
  private readonly min: number;
  private readonly max: number;
  constructor(nullable: boolean, capacity: number, bits: 16 | 32) {
    super(nullable, capacity);
    this.values = bits === 16 ? new Int16Array(capacity) : new Int32Array(capacity);
    this.max = bits === 16 ? 32767 : 2147483647;
    this.min = -this.max - 1;
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const n = parseSmallInt(b, s, e);
    if (!(n >= this.min && n <= this.max)) throw new DecodeError(`not an integer in range: ${text(b, s, e)}`);
    this.values[i] = n;
  }
}

class Int64Builder extends FixedWidthBuilder {
  protected readonly values: BigInt64Array;
  private readonly words: Int32Array;
  constructor(
    nullable: boolean,
    capacity: number,
    private readonly fromBits: boolean,
  ) {
    super(nullable, capacity);
    this.values = new BigInt64Array(capacity);
    this.words = new Int32Array(this.values.buffer);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    if (this.fromBits) {
      this.appendBits(b, s, e, i);
      return;
    }
    const n = parseSmallInt(b, s, e);
    if (Number.isFinite(n)) {
      writeInt64Number(this.words, i * 2, n);
      return;
    }
    const big = Number.isNaN(n) ? undefined : parseBigInt(b, s, e);
    if (big === undefined || big > INT64_MAX || big < INT64_MIN) {
      throw new DecodeError(`not a 64-bit integer: ${text(b, s, e)}`);
    }
    writeInt64BigInt(this.words, i * 2, big);
  }
  /** BIT(n) arrives as ceil(n/8) big-endian bytes. */
  private appendBits(b: Uint8Array, s: number, e: number, i: number): void {
    let hi = 0;
    let lo = 0;
    for (let k = s; k < e; k++) {
      const shiftOut = e - 1 - k; // byte position from the right
      if (shiftOut >= 8) {
        if (b[k] !== 0) throw new DecodeError(`BIT value wider than 64 bits`);
      } else if (shiftOut >= 4) hi = hi * 256 + b[k]!;
      else lo = lo * 256 + b[k]!;
    }
    if (hi > 0x7fffffff) throw new DecodeError('BIT value ≥ 2^63 does not fit a signed 64-bit integer');
    this.words[i * 2] = lo;
    this.words[i * 2 + 1] = hi;
  }
}

class FloatBuilder extends FixedWidthBuilder {
  protected readonly values: Float32Array | Float64Array;
  constructor(nullable: boolean, capacity: number, bits: 32 | 64) {
    super(nullable, capacity);
    this.values = bits === 32 ? new Float32Array(capacity) : new Float64Array(capacity);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const n = parseFloatAscii(b, s, e);
    if (Number.isNaN(n)) throw new DecodeError(`not a number: ${text(b, s, e)}`);
    this.values[i] = n;
  }
}

class DecimalBuilder extends ColumnBuilder {
  private readonly words: Uint32Array;
  private readonly limit: bigint;
  constructor(
    nullable: boolean,
    capacity: number,
    private readonly precision: number,
    private readonly scale: number,
  ) {
    super(nullable, capacity);
    this.words = new Uint32Array(capacity * 4);
    this.limit = decimalLimit(precision);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const u = parseDecimalUnscaled(b, this.scale, s, e);
    if (u === undefined) throw new DecodeError(`not a DECIMAL(${this.precision},${this.scale}): ${text(b, s, e)}`);
    if (typeof u === 'bigint' && (u >= this.limit || u <= -this.limit)) {
      throw new DecodeError(`value exceeds DECIMAL(${this.precision},${this.scale}): ${text(b, s, e)}`);
    }
    writeDecimal128(this.words, i * 4, u);
  }
  finish(length: number): ColumnPayload {
    return { ...this.validityPayload(length), values: this.words.subarray(0, length * 4), offsets: null };
  }
}

class DateBuilder extends FixedWidthBuilder {
  protected readonly values: Int32Array;
  constructor(nullable: boolean, capacity: number) {
    super(nullable, capacity);
    this.values = new Int32Array(capacity);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const d = parseDate(b, s, e);
    if (d === ZERO_DATE) {
      this.setNull(i);
      return;
    }
    if (Number.isNaN(d) || e - s !== 10) throw new DecodeError(`not a valid DATE: ${text(b, s, e)}`);
    this.values[i] = d;
  }
}

class TimestampBuilder extends FixedWidthBuilder {
  protected readonly values: BigInt64Array;
  private readonly words: Int32Array;
  constructor(nullable: boolean, capacity: number) {
    super(nullable, capacity);
    this.values = new BigInt64Array(capacity);
    this.words = new Int32Array(this.values.buffer);
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const t = parseDateTimeMicros(b, s, e);
    if (t === ZERO_DATE) {
      this.setNull(i);
      return;
    }
    if (typeof t === 'bigint') {
      writeInt64BigInt(this.words, i * 2, t);
      return;
    }
    if (Number.isNaN(t)) throw new DecodeError(`not a valid DATETIME/TIMESTAMP: ${text(b, s, e)}`);
    writeInt64Number(this.words, i * 2, t);
  }
}

/** Bytes copied verbatim (UTF-8 text, JSON, TIME text, binary). */
class BytesBuilder extends ColumnBuilder {
  private readonly offsets: Int32Array;
  private data: Uint8Array;
  private pos = 0;
  constructor(nullable: boolean, capacity: number) {
    super(nullable, capacity);
    this.offsets = new Int32Array(capacity + 1);
    this.data = new Uint8Array(Math.max(1024, capacity * 16));
  }
  appendRange(b: Uint8Array, s: number, e: number, i: number): void {
    const n = e - s;
    const end = this.pos + n;
    if (end > this.data.length) this.grow(end);
    if (n < 16) {
      const d = this.data;
      for (let k = s, p = this.pos; k < e; k++, p++) d[p] = b[k]!;
    } else {
      this.data.set(b.subarray(s, e), this.pos);
    }
    this.pos = end;
    this.offsets[i + 1] = end;
  }
  override appendNull(i: number): void {
    this.setNull(i);
    this.offsets[i + 1] = this.pos;
  }
  private grow(need: number): void {
    if (need > 0x7fffffff) throw new DecodeError('more than 2 GiB of data in one row group');
    const next = new Uint8Array(Math.min(0x7fffffff, Math.max(need, this.data.length * 2)));
    next.set(this.data.subarray(0, this.pos));
    this.data = next;
  }
  override varBytes(): number {
    return this.pos;
  }
  finish(length: number): ColumnPayload {
    return {
      ...this.validityPayload(length),
      values: this.data.subarray(0, this.pos),
      offsets: this.offsets.subarray(0, length + 1),
    };
  }
}

export function createBuilder(col: MappedColumn, capacity: number): ColumnBuilder {
  const t = col.type;
  const bits = col.source.dataType === 'bit';
  switch (t.kind) {
    case 'boolean':
      return new BoolBuilder(col.nullable, capacity, bits);
    case 'int16':
      return new SmallIntBuilder(col.nullable, capacity, 16);
    case 'int32':
      return new SmallIntBuilder(col.nullable, capacity, 32);
    case 'int64':
      return new Int64Builder(col.nullable, capacity, bits);
    case 'float32':
      return new FloatBuilder(col.nullable, capacity, 32);
    case 'float64':
      return new FloatBuilder(col.nullable, capacity, 64);
    case 'decimal':
      return new DecimalBuilder(col.nullable, capacity, t.precision, t.scale);
    case 'date':
      return new DateBuilder(col.nullable, capacity);
    case 'timestamp':
      return new TimestampBuilder(col.nullable, capacity);
    case 'string':
    case 'json':
    case 'time':
    case 'binary':
      return new BytesBuilder(col.nullable, capacity);
  }
}
