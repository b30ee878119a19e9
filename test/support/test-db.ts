/** A fresh MySQL database on the run's private MariaDB, for one test file. */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';

export interface TestDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** A promise connection to the database (multipleStatements on, for fixtures). */
  conn: mysql.Connection;
  drop(): Promise<void>;
}

/** A MariaDB server to create the database on: the run's shared private one unless a test brings its own. */
export interface ServerAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export async function createTestDatabase(prefix = 't', own?: ServerAddress): Promise<TestDatabase> {
  const given = own ?? inject('mariadb');
  const server = { host: given.host, port: given.port, user: given.user, password: given.password };
  const database = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ ...server, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const conn = await mysql.createConnection({ ...server, database, multipleStatements: true, timezone: 'Z' });
  return {
    ...server,
    database,
    conn,
    async drop() {
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await conn.end();
    },
  };
}
