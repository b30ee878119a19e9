/**
 * Judging user SQL: the MySQL-faithful normaliser (mysql-text.ts) and the parse-tree checks of custom_query and
 * additional_where (custom-sql.ts). The hostile cases are the ones users found; the accepted ones are what the
 * old word list refused by mistake. test/integration/custom-sql.integration.test.ts runs the accepted ones on MariaDB.
 */
import { describe, expect, test } from 'vitest';
import { MysqlTextError, normaliseMysql } from '../../../../../lambdas/engine/strategies/sql/mysql-text.js';
import {
  CUSTOM_SQL_PLACEHOLDERS,
  DENIED_FUNCTIONS,
  prepareAdditionalWhere,
  prepareCustomSql,
} from '../../../../../lambdas/engine/strategies/sql/user-sql.js';
import { ConfigError } from '../../../../../lambdas/errors.js';

const TABLE = '`shop`.`orders`';
const WHERE = 'shop.orders';

const sql = (query: string) => prepareCustomSql(query, TABLE, WHERE).sql;
const norm = (text: string) => normaliseMysql(text, { subject: 'q', placeholders: CUSTOM_SQL_PLACEHOLDERS }).text;

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
const refused = (query: string) => refusal(() => prepareCustomSql(query, TABLE, WHERE));
const whereRefused = (text: string) => refusal(() => prepareAdditionalWhere(text, WHERE));

describe('normaliseMysql: comments the way MySQL/MariaDB lex them', () => {
  test('`--` is a comment only before whitespace, a control character or the end; otherwise two minus signs', () => {
    expect(norm('SELECT 1--1')).toBe('SELECT 1- -1');
    expect(norm('SELECT 1---1')).toBe('SELECT 1- - -1');
    expect(norm('SELECT 1--sleep(2)')).toBe('SELECT 1- -sleep(2)');
    expect(norm('SELECT 1-- c\n+ 1')).toBe('SELECT 1\n+ 1');
    expect(norm('SELECT 1--\tc\n+ 1')).toBe('SELECT 1\n+ 1');
    expect(norm('SELECT 1--\u0001c\n+ 1')).toBe('SELECT 1\n+ 1');
    expect(norm('SELECT 1 --')).toBe('SELECT 1');
    expect(norm('SELECT 1--- c')).toBe('SELECT 1-');
  });

  test('`#` runs to the end of the line; /* … */ is removed, keeping its line breaks', () => {
    expect(norm('SELECT 1 # c\n + 1 AS x')).toBe('SELECT 1 \n + 1 AS x');
    expect(norm('SELECT 1/* c */+1')).toBe('SELECT 1 +1');
    expect(norm('SELECT 1 /* a\nb */ + 1')).toBe('SELECT 1 \n + 1');
    expect(norm('SELECT 1 /*+ MAX_EXECUTION_TIME(1) */ AS x')).toBe('SELECT 1  AS x');
  });

  test('executable comments are unwrapped whatever their version: the server runs their content', () => {
    expect(norm('SELECT 1 /*! + 1 */ AS x')).toBe('SELECT 1  + 1  AS x');
    expect(norm('SELECT 1 /*!50700 + 1 */')).toBe('SELECT 1  + 1');
    expect(norm('SELECT 1 /*!99999 + 1 */')).toBe('SELECT 1  + 1');
    expect(norm('SELECT 1 /*M! + 1 */')).toBe('SELECT 1  + 1');
    expect(norm('SELECT 1 /*M!100500 + 1 */')).toBe('SELECT 1  + 1');
    expect(norm('SELECT 1/*!+1*/')).toBe('SELECT 1 +1');
    expect(norm("SELECT 1 /*! + LENGTH('*/') */")).toBe("SELECT 1  + LENGTH('*/')");
  });

  test('strings and identifiers are copied as they are, whatever they contain', () => {
    const text = `SELECT 'a -- b', '#', ';', '/*', ':last_id', '{table_name}', "x -- y", \`c--d\`, 'it''s', 'a\\'b -- c'`;
    expect(norm(text)).toBe(text);
    expect(norm("SELECT 'a\\\\' -- c")).toBe("SELECT 'a\\\\'");
    expect(norm('SELECT "a""b", `a``b`')).toBe('SELECT "a""b", `a``b`');
    // A backtick identifier has no backslash escapes.
    expect(norm('SELECT `a\\` -- c')).toBe('SELECT `a\\`');
  });

  test('placeholders become ? in order, {table_name} the quoted table; strings keep theirs', () => {
    const n = normaliseMysql(
      "SELECT ':limit', {table_name}.id FROM {table_name} WHERE a > :last_id AND b > {last_id} LIMIT :limit",
      {
        subject: 'q',
        placeholders: CUSTOM_SQL_PLACEHOLDERS,
        tableName: TABLE,
      },
    );
    expect(n.text).toBe(`SELECT ':limit', ${TABLE}.id FROM ${TABLE} WHERE a > ? AND b > ? LIMIT ?`);
    expect(n.placeholders).toEqual(['last_id', 'last_id', 'limit']);
    expect(normaliseMysql(':last_id:limit', { subject: 'q', placeholders: ['last_id', 'limit'] }).text).toBe('? ?');
  });

  test('what it refuses, with the position in the input', () => {
    const opts = { subject: 'q', placeholders: ['last_id'] };
    const cases: [string, string][] = [
      [
        'SELECT a WHERE b = ?',
        "q contains a literal '?'; use the named placeholders (:last_id) instead (line 1, column 20)",
      ],
      [
        "SELECT 'why?'",
        "q contains a literal '?', which would be taken for a bound parameter; write CHAR(63) for a question mark (line 1, column 12)",
      ],
      ["SELECT\n  'abc", "q has an unterminated ' string (line 2, column 3)"],
      ['SELECT `abc', 'q has an unterminated ` identifier (line 1, column 8)'],
      ['SELECT 1 /* c', 'q has an unterminated /* comment (line 1, column 10)'],
      ['SELECT 1 /*! + 1', 'q has an unterminated executable /*! comment (line 1, column 10)'],
      [
        'SELECT 1 /*! + 1 -- c\n */',
        'q has a comment inside an executable /*! … */ comment; remove one of them (line 1, column 18)',
      ],
      [
        'SELECT 1 /*! + 1 /* c */ */',
        'q has a comment inside an executable /*! … */ comment; remove one of them (line 1, column 18)',
      ],
      ['SELECT :nope', 'q uses the unknown placeholder :nope; known: :last_id (line 1, column 8)'],
      ['SELECT { x }', "q has a stray '{' (line 1, column 8)"],
    ];
    for (const [text, message] of cases) {
      let thrown: unknown;
      try {
        normaliseMysql(text, opts);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, text).toBeInstanceOf(MysqlTextError);
      expect((thrown as Error).message, text).toBe(message);
    }
    expect(() => normaliseMysql('a = :x', { subject: 'w' })).toThrow('w cannot use placeholders (found :x)');
  });
});

describe('prepareCustomSql: hostile texts are refused as the server would run them', () => {
  test('`1--sleep(2)` is 1 - (-SLEEP(2)) to MySQL, so it calls SLEEP', () => {
    expect(refused('SELECT 1--sleep(2)')).toBe(
      'shop.orders: custom_query must be one read-only SELECT: it calls SLEEP()',
    );
  });

  test('executable comments are judged as code', () => {
    for (const q of [
      'SELECT 1 /*M! , SLEEP(1) */',
      'SELECT 1 /*M!100000 , SLEEP(1) */',
      'SELECT 1 /*! , SLEEP(1) */',
      'SELECT 1 /*!50700 , SLEEP(1) */',
      'SELECT 1 /*!99999 , SLEEP(1) */',
    ]) {
      expect(refused(q), q).toBe('shop.orders: custom_query must be one read-only SELECT: it calls SLEEP()');
    }
    expect(refused('SELECT 1 /*!; DELETE FROM t */')).toMatch(/must be a single SELECT statement/);
  });

  test('every denied function, wherever it is called', () => {
    const places = [
      (f: string) => `SELECT ${f} FROM t`,
      (f: string) => `SELECT a FROM t WHERE a = ${f}`,
      (f: string) => `SELECT a FROM t WHERE a IN (SELECT b FROM u WHERE b = ${f})`,
      (f: string) => `WITH c AS (SELECT ${f} AS a) SELECT a FROM c`,
      (f: string) => `SELECT a FROM t ORDER BY ${f}`,
      (f: string) => `SELECT a FROM t GROUP BY a HAVING COUNT(*) > ${f}`,
      (f: string) => `SELECT a FROM t JOIN u ON u.id = ${f}`,
      (f: string) => `SELECT a FROM t UNION SELECT ${f}`,
      (f: string) => `SELECT * FROM (SELECT ${f} AS a) AS d`,
      (f: string) => `SELECT CASE WHEN a THEN COALESCE(${f}, 1) END FROM t`,
    ];
    for (const name of DENIED_FUNCTIONS) {
      for (const place of places) {
        const q = place(`${name.toLowerCase()}('x', 1)`);
        expect(refused(q), q).toBe(`shop.orders: custom_query must be one read-only SELECT: it calls ${name}()`);
      }
    }
    expect(refused('SELECT `sleep`(1)')).toMatch(/it calls SLEEP\(\)$/);
    expect(refused('SELECT SLEEP (1)')).toMatch(/it calls SLEEP\(\)$/);
    expect(refused('SELECT shop.sleep(1)')).toMatch(/it calls SLEEP\(\)$/);
  });

  test('writes, locks and variable assignments', () => {
    const cases: [string, string][] = [
      ["SELECT a INTO OUTFILE '/tmp/x' FROM t", 'it writes INTO OUTFILE'],
      ["SELECT a FROM t INTO DUMPFILE '/tmp/x'", 'it writes INTO DUMPFILE'],
      ['SELECT a INTO @x FROM t', 'it writes INTO @x'],
      ['SELECT a FROM t WHERE a IN (SELECT b FROM u INTO @y)', 'it writes INTO @y'],
      ['SELECT a FROM t FOR UPDATE', 'it locks the rows it reads (FOR UPDATE)'],
      ['SELECT a FROM t FOR UPDATE SKIP LOCKED', 'it locks the rows it reads (FOR UPDATE SKIP LOCKED)'],
      ['SELECT a FROM t LOCK IN SHARE MODE', 'it locks the rows it reads (LOCK IN SHARE MODE)'],
      ['SELECT a FROM t WHERE a IN (SELECT b FROM u FOR UPDATE)', 'it locks the rows it reads (FOR UPDATE)'],
      ['SELECT @x := 1', 'it assigns a variable (@x := …)'],
      ['SELECT a, @n := @n + 1 FROM t', 'it assigns a variable (@n := …)'],
    ];
    for (const [q, why] of cases) {
      expect(refused(q), q).toBe(`shop.orders: custom_query must be one read-only SELECT: ${why}`);
    }
    // MySQL 8's FOR SHARE is not in the parser's grammar: refused as unparsable, which is as good.
    expect(refused('SELECT a FROM t FOR SHARE')).toMatch(
      /does not parse .* \(line 1, column 21\): .* but "S" found\.$/,
    );
  });

  test('other statements, several statements, and text that does not parse', () => {
    expect(refused('DELETE FROM t')).toBe(
      'shop.orders: custom_query must start with SELECT (or WITH … SELECT); this is a DELETE statement',
    );
    expect(refused('REPLACE INTO t VALUES (1)')).toMatch(/this is a REPLACE statement$/);
    expect(refused('SET @a = 1')).toMatch(/this is a SET statement$/);
    expect(refused('SELECT 1; DELETE FROM t')).toBe(
      "shop.orders: custom_query must be a single SELECT statement (found more than one statement: ';' at line 1, column 9)",
    );
    expect(refused('SELECT 1;;')).toMatch(/single SELECT statement/);
    expect(refused('-- nothing\n')).toBe('shop.orders: custom_query is empty');
    const message = refused('SELECT a\nFROM t WHERE (a = 1');
    expect(message).toMatch(
      /^shop\.orders: custom_query does not parse as MySQL or MariaDB SQL \(line 2, column 20\): Expected .* but end of input found\.$/,
    );
    expect(message.length).toBeLessThan(250);
  });

  test('each problem is said once, after the caller prefix', () => {
    const m = refusal(() => prepareCustomSql('SELECT SLEEP(1)', TABLE, 'shop.orders custom_query'));
    expect(m).toBe('shop.orders custom_query: custom_query must be one read-only SELECT: it calls SLEEP()');
  });
});

describe('prepareCustomSql: accepted texts', () => {
  test('REPLACE(), columns named like keywords, and keywords as quoted identifiers', () => {
    expect(sql("SELECT REPLACE(email, '@', ' at ') AS e FROM {table_name}")).toBe(
      `SELECT REPLACE(email, '@', ' at ') AS e FROM ${TABLE}`,
    );
    const q = 'SELECT created_at, update_count, deleted, `select`, `sleep` FROM t WHERE insert_id > 0';
    expect(sql(q)).toBe(q);
  });

  test('a CTE, a UNION, a subquery in WHERE, a join, window functions', () => {
    for (const q of [
      'WITH c AS (SELECT id FROM t) SELECT id FROM c',
      'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c',
      'SELECT id FROM t UNION SELECT id FROM u',
      '(SELECT id FROM t) UNION ALL (SELECT id FROM u)',
      'SELECT id FROM t INTERSECT SELECT id FROM u',
      'SELECT id FROM t WHERE id IN (SELECT t_id FROM u WHERE u.ok = 1)',
      'SELECT t.id, u.x FROM t LEFT JOIN u ON u.id = t.id WHERE EXISTS (SELECT 1 FROM v WHERE v.id = t.id)',
      'SELECT id, ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) AS rn FROM t',
    ]) {
      expect(sql(q), q).toBe(q);
    }
  });

  test('placeholders in order, {table_name}, the old brace style, a trailing semicolon', () => {
    const p = prepareCustomSql(
      'SELECT * FROM {table_name} WHERE (updated_at, id) > (:last_timestamp, {last_id}) AND updated_at <= :upper_timestamp AND id <= :upper_id ORDER BY updated_at, id LIMIT :limit;',
      TABLE,
      WHERE,
    );
    expect(p).toEqual({
      sql: `SELECT * FROM ${TABLE} WHERE (updated_at, id) > (?, ?) AND updated_at <= ? AND id <= ? ORDER BY updated_at, id LIMIT ?`,
      placeholders: ['last_timestamp', 'last_id', 'upper_timestamp', 'upper_id', 'limit'],
    });
  });

  test('strings holding --, #, ;, /* and :name are data, not syntax', () => {
    const q =
      "SELECT id FROM t WHERE note <> 'a -- b' AND note <> '#' AND note <> 'x; DELETE FROM t' AND note <> '/*' AND note <> ':last_id'";
    expect(prepareCustomSql(q, TABLE, WHERE)).toEqual({ sql: q, placeholders: [] });
    expect(sql("SELECT id FROM t WHERE name <> 'it''s; not a statement' AND b = 'a\\'; DELETE'")).toBe(
      "SELECT id FROM t WHERE name <> 'it''s; not a statement' AND b = 'a\\'; DELETE'",
    );
  });

  test('`1--1` is normalised and accepted; comments are gone from the result', () => {
    expect(sql('SELECT 1--1 AS x')).toBe('SELECT 1- -1 AS x');
    expect(sql('SELECT a -- the a\nFROM t # done')).toBe('SELECT a \nFROM t');
  });

  test('harmless executable comments are unwrapped and accepted', () => {
    expect(sql('SELECT 1 /*! + 1 */ AS x')).toBe('SELECT 1  + 1  AS x');
    expect(sql('SELECT 1 /*M! + 1 */ AS x')).toBe('SELECT 1  + 1  AS x');
    expect(sql('SELECT /*!40001 SQL_NO_CACHE */ id FROM t')).toBe('SELECT  SQL_NO_CACHE  id FROM t');
  });

  test('the sales.yml example', () => {
    const p = prepareCustomSql(
      'SELECT id, email, country, updated_at FROM {table_name}\nWHERE (updated_at, id) > (:last_timestamp, :last_id) AND updated_at <= :upper_timestamp\nORDER BY updated_at, id LIMIT :limit',
      TABLE,
      WHERE,
    );
    expect(p.placeholders).toEqual(['last_timestamp', 'last_id', 'upper_timestamp', 'limit']);
  });
});

describe('prepareAdditionalWhere', () => {
  test('cannot escape the parentheses it is wrapped in', () => {
    expect(whereRefused('1=0) OR (1=1')).toMatch(
      /^shop\.orders: additional_where does not parse as a MySQL or MariaDB WHERE condition \(line 1, column 4\): .* but "\)" found\.$/,
    );
    expect(whereRefused('a = 1) UNION (SELECT 1')).toMatch(/does not parse/);
  });

  test('a trailing comment is gone, so the closing parenthesis survives the wrapping', () => {
    const w = prepareAdditionalWhere("status = 'paid' -- note", WHERE);
    expect(w).toBe("status = 'paid'");
    expect(`(${w})`).toBe("(status = 'paid')");
    expect(prepareAdditionalWhere('a = 1 # note', WHERE)).toBe('a = 1');
    expect(prepareAdditionalWhere('a = 1 /* note */', WHERE)).toBe('a = 1');
    // Wrapped and placed in a query, it still parses as one condition.
    expect(prepareCustomSql(`SELECT id FROM t WHERE (x > 1) AND (${w}) ORDER BY id`, TABLE, WHERE).sql).toContain(
      `(${w}) ORDER`,
    );
  });

  test('nothing but the WHERE: no clause may follow it', () => {
    const cases: [string, string][] = [
      ['a = 1 UNION SELECT password FROM users', 'UNION'],
      ['a = 1 GROUP BY a', 'GROUP BY'],
      ['a = 1 GROUP BY a HAVING COUNT(*) > 1', 'GROUP BY'],
      ['a = 1 ORDER BY a', 'ORDER BY'],
      ['a = 1 LIMIT 1', 'LIMIT'],
      ['a = 1 INTO @x', 'INTO'],
      ['a = 1 FOR UPDATE', 'FOR UPDATE'],
      ['a = 1 LOCK IN SHARE MODE', 'LOCK IN SHARE MODE'],
      ['a = 1 WINDOW w AS (ORDER BY a)', 'WINDOW'],
    ];
    for (const [w, clause] of cases) {
      expect(whereRefused(w), w).toBe(
        `shop.orders: additional_where must be one condition for a WHERE clause: it adds ${clause} after it`,
      );
    }
  });

  test('the same function deny list, executable comments judged as code', () => {
    expect(whereRefused('a = SLEEP(1)')).toBe(
      'shop.orders: additional_where must be a read-only condition: it calls SLEEP()',
    );
    expect(whereRefused('a = 1--sleep(1)')).toMatch(/it calls SLEEP\(\)$/);
    expect(whereRefused('a = 1 /*M! OR BENCHMARK(1e9, 1) */')).toMatch(/it calls BENCHMARK\(\)$/);
    expect(whereRefused('a IN (SELECT b FROM u WHERE GET_LOCK(b, 1))')).toMatch(/it calls GET_LOCK\(\)$/);
    expect(whereRefused('(@x := a) > 0')).toMatch(/does not parse|assigns a variable/);
    expect(prepareAdditionalWhere('a = 1 /*! OR 1 = 1 */', WHERE)).toBe('a = 1  OR 1 = 1');
  });

  test('no placeholders, no semicolons, not empty', () => {
    expect(whereRefused('a > :last_id')).toBe(
      'shop.orders: additional_where cannot use placeholders (found :last_id) (line 1, column 5)',
    );
    expect(whereRefused('a > {last_id}')).toMatch(/cannot use placeholders \(found \{last_id\}\)/);
    expect(whereRefused('{table_name}.a > 1')).toMatch(/cannot use placeholders \(found \{table_name\}\)/);
    expect(whereRefused('a > ?')).toMatch(/cannot use placeholders \(found '\?'\)/);
    expect(whereRefused('a = 1; DELETE FROM t')).toBe(
      "shop.orders: additional_where must be one condition, without ';' (found at line 1, column 6)",
    );
    expect(whereRefused('-- only a comment')).toBe('shop.orders: additional_where is empty');
  });

  test('accepted conditions', () => {
    for (const w of [
      "kind <> 'skip'",
      "REPLACE(email, '@', ' at ') <> ''",
      'created_at > NOW() - INTERVAL 1 DAY',
      'id IN (SELECT order_id FROM refunds WHERE amount > 0)',
      "note NOT LIKE '%--%' AND note <> ')'",
      '`select` = 1 OR update_count > 2',
    ]) {
      expect(prepareAdditionalWhere(w, WHERE), w).toBe(w);
    }
    expect(prepareAdditionalWhere('a = 1--1', WHERE)).toBe('a = 1- -1');
  });
});
