/** A watermark typed by hand is checked against the cursor columns before it is stored. */
import { describe, expect, test } from 'vitest';
import type { TableConfig } from '../../../lambdas/domain/config.js';
import type { SourceColumn } from '../../../lambdas/domain/model.js';
import { checkWatermarkInput, dateTimeProblem } from '../../../lambdas/engine/watermark-input.js';
import { ConfigError } from '../../../lambdas/errors.js';

const table = { name: 'shop.orders', idColumn: 'id', timestampFormat: 'datetime' } as TableConfig;
const col = (
  name: string,
  dataType: string,
  columnType = dataType,
  numericScale: number | null = null,
): SourceColumn => ({
  name,
  dataType,
  columnType,
  nullable: false,
  charMaxLength: null,
  numericPrecision: null,
  numericScale,
  ordinal: 1,
});

describe('dateTimeProblem', () => {
  test.each([
    ['2025-08-09 20:00:01', undefined],
    ['2025-08-09', undefined],
    ['2024-02-29 23:59:59.123456', undefined],
    ['2025-13-45', 'has month 13'],
    ['2025-02-29 00:00:00', 'has day 29, and 2025-02 has 28 days'],
    ['2025-04-31', 'has day 31'],
    ['2025-01-01 24:00:00', 'has time 24:00:00'],
    ['yesterday', "is not 'YYYY-MM-DD HH:MM:SS[.ffffff]'"],
  ])('%s', (text, problem) => {
    if (problem === undefined) expect(dateTimeProblem(text)).toBeUndefined();
    else expect(dateTimeProblem(text)).toContain(problem);
  });
});

describe('checkWatermarkInput', () => {
  test('an id must fit an integer id column, a non-negative one for UNSIGNED', () => {
    const signed = [col('id', 'bigint')];
    const unsigned = [col('id', 'bigint', 'bigint(20) unsigned')];
    expect(() => checkWatermarkInput(table, signed, { id: 'abc' })).toThrow(
      /--id "abc" is not an integer.*shop\.orders\.id/,
    );
    expect(() => checkWatermarkInput(table, signed, { id: '-5' })).not.toThrow();
    expect(() => checkWatermarkInput(table, unsigned, { id: '-5' })).toThrow(/non-negative integer/);
    expect(() => checkWatermarkInput(table, [col('id', 'decimal', 'decimal(20,0)', 0)], { id: '12' })).not.toThrow();
    expect(() => checkWatermarkInput(table, [col('id', 'varchar', 'varchar(20)')], { id: 'abc' })).not.toThrow();
  });

  test('a bad timestamp, a unix one that is not seconds, and an empty id are ConfigErrors', () => {
    expect(() => checkWatermarkInput(table, undefined, { ts: '2025-13-45' })).toThrow(ConfigError);
    expect(() => checkWatermarkInput({ ...table, timestampFormat: 'unix' }, undefined, { ts: '2025-01-01' })).toThrow(
      /whole number of seconds/,
    );
    expect(() => checkWatermarkInput(table, undefined, { id: ' ' })).toThrow(/must not be empty/);
    // Without columns only formats are checked.
    expect(() => checkWatermarkInput(table, undefined, { id: 'abc' })).not.toThrow();
  });
});
