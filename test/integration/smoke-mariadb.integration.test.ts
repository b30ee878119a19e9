import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('smoke');
});
afterAll(async () => db?.drop());

test('the private MariaDB answers in its own database', async () => {
  const [rows] = await db.conn.query('SELECT DATABASE() AS d');
  expect((rows as { d: string }[])[0]?.d).toBe(db.database);
});
