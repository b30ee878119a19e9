/** PostgreSQL result values (as text) → Data API fields and column metadata, as Redshift reports them. */

export type WireField =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number }
  | { doubleValue: number }
  | { stringValue: string };

/** PostgreSQL type OIDs we map; domains arrive as their base type (super → jsonb, varbyte → bytea). */
const OID = { bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, float4: 700, float8: 701 } as const;

const TYPE_NAMES: Record<number, string> = {
  16: 'bool',
  17: 'varbyte',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'text',
  700: 'float4',
  701: 'float8',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  1700: 'numeric',
  3802: 'super',
};

export function typeName(oid: number): string {
  return TYPE_NAMES[oid] ?? 'varchar';
}

export function toWireField(value: string | null, oid: number): WireField {
  if (value === null) return { isNull: true };
  switch (oid) {
    case OID.bool:
      return { booleanValue: value === 't' };
    case OID.int2:
    case OID.int4:
    case OID.int8:
      return { longValue: Number(value) };
    case OID.float4:
    case OID.float8:
      return { doubleValue: Number(value) };
    // Redshift prints VARBYTE as hex without PostgreSQL's `\x` prefix.
    case OID.bytea:
      return { stringValue: value.startsWith('\\x') ? value.slice(2) : value };
    default:
      return { stringValue: value };
  }
}
