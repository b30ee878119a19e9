/** The `orders` table the end-to-end tests sync, and the row-for-row comparison with the warehouse. */
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

export const T1 = '2024-01-01 00:00:00';
export const T2 = '2024-01-02 00:00:00';
export const T3 = '2024-01-03 00:00:00';
export const T4 = '2024-01-04 00:00:00';

export async function createOrders(h: Harness): Promise<void> {
  await h.db.conn.query(`CREATE TABLE orders (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    amount DECIMAL(12,2) NULL,
    updated_at DATETIME NOT NULL,
    updated_unix INT NOT NULL
  )`);
}

function unix(ts: string): number {
  return Date.parse(`${ts.replace(' ', 'T')}Z`) / 1000;
}

export async function insertOrders(h: Harness, ids: number[], ts: string): Promise<void> {
  for (const id of ids) {
    await h.db.conn.query('INSERT INTO orders VALUES (?, ?, ?, ?, ?)', [
      id,
      `order ${id}`,
      id % 4 === 0 ? null : `${id}.25`,
      ts,
      unix(ts),
    ]);
  }
}

export async function updateOrders(h: Harness, ids: number[], ts: string, name: string): Promise<void> {
  for (const id of ids) {
    await h.db.conn.query(
      'UPDATE orders SET name = ?, amount = amount + 1, updated_at = ?, updated_unix = ? WHERE id = ?',
      [`${name} ${id}`, ts, unix(ts), id],
    );
  }
}

interface OrderRow {
  id: string;
  name: string;
  amount: string | null;
  updated_at: string;
  updated_unix: number;
}

function normalize(r: Record<string, unknown>): OrderRow {
  return {
    id: String(r.id),
    name: String(r.name),
    amount: r.amount === null || r.amount === undefined ? null : Number(r.amount).toFixed(2),
    updated_at: String(r.updated_at).slice(0, 19),
    updated_unix: Number(r.updated_unix),
  };
}

export async function sourceOrders(h: Harness): Promise<OrderRow[]> {
  const [rows] = await h.db.conn.query(
    "SELECT id, name, CAST(amount AS CHAR) AS amount, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s') AS updated_at, updated_unix FROM orders ORDER BY id",
  );
  return (rows as Record<string, unknown>[]).map(normalize);
}

export async function warehouseOrders(h: Harness, target = 'public.orders'): Promise<OrderRow[]> {
  return (await h.warehouseRows(target, 'id')).map(normalize);
}

/** The warehouse equals the source row for row, and no key appears twice. */
export async function expectInStep(h: Harness, target = 'public.orders'): Promise<void> {
  const wh = await warehouseOrders(h, target);
  expect(new Set(wh.map((r) => r.id)).size).toBe(wh.length);
  expect(wh).toEqual(await sourceOrders(h));
}
