/** `highwater query "SQL"`: one statement against the local DuckDB warehouse, read-only, bounded output. */
import { Command } from 'commander';
import { ConfigError } from '../../../lambdas/errors.js';
import { type GlobalOptions, withContext } from '../context.js';
import { positiveInt } from '../options.js';
import { renderCsv, renderTextTable, toJson } from '../query-output.js';

interface QueryOptions {
  pipeline: string;
  target?: string;
  json?: boolean;
  csv?: boolean;
  maxRows: number;
  asOf?: string;
  table?: string;
}

export function queryCommand(global: () => GlobalOptions): Command {
  return new Command('query')
    .description('run one SQL statement against the local DuckDB warehouse, read-only')
    .argument('[sql]', 'one SQL statement (DuckDB dialect), in quotes (none with --as-of)')
    .option('-p, --pipeline <name>', "query this pipeline's target", 'default')
    .option('--target <name>', 'query this DuckDB target connection instead')
    .option('--json', 'print {"columns": [...], "rows": [[...]], "rowCount", "truncated"} on stdout')
    .option('--csv', 'print CSV (RFC 4180: header line, fields quoted when needed, CRLF line ends)')
    .option(
      '--as-of <timestamp>',
      'the versions of history table -t valid then (2024-05-01 10:00:00, UTC unless a zone is given)',
    )
    .option('-t, --table <schema.table>', 'the history table --as-of reads (a table of the pipeline, as sync names it)')
    .option('--max-rows <n>', 'at most this many rows (1 to 1,000,000)', positiveInt('--max-rows'), 1000)
    .addHelpText(
      'after',
      `
The warehouse file is opened read-only with external access off: a statement that would change it, or read or
write other files, is refused. Rows beyond --max-rows are not read; stderr says when some were left out. While a
sync holds the warehouse open the query waits for nothing and fails, saying the file is locked.
Examples:
  highwater query "SELECT count(*) FROM public.orders"
  highwater query "SELECT * FROM public.orders ORDER BY id DESC LIMIT 10"
  highwater query "SELECT * FROM public.orders" --csv --max-rows 100000 > orders.csv
  highwater query -p sales "SELECT status, count(*) FROM public.orders GROUP BY 1" --json
  highwater query --as-of "2024-05-01 00:00:00" -t shop.customers   (a history table's rows as they were then)`,
    )
    .action(async (given: string | undefined, o: QueryOptions) => {
      if (o.json && o.csv) throw new ConfigError('--json and --csv exclude each other: choose one output format');
      if (o.asOf !== undefined && given !== undefined) {
        throw new ConfigError('--as-of builds its own query: give -t TABLE and no SQL statement');
      }
      if ((o.asOf === undefined) !== (o.table === undefined)) {
        throw new ConfigError('--as-of and -t go together: highwater query --as-of TIMESTAMP -t schema.table');
      }
      if (o.asOf === undefined && given === undefined) throw new ConfigError('query: give one SQL statement');
      await withContext(global(), o.json, async ({ out, runtime }) => {
        const { asOfQuery, parseAsOf, queryWarehouse, warehousePathFor } = await import(
          '../../../lambdas/local/engine/warehouse-query.js'
        );
        const path = warehousePathFor(runtime, { pipeline: o.pipeline, target: o.target });
        const sql =
          o.asOf !== undefined && o.table !== undefined
            ? asOfQuery(runtime, o.pipeline, o.table, parseAsOf(o.asOf))
            : (given ?? '');
        const r = await queryWarehouse(path, sql, o.maxRows);
        if (r.truncated) {
          process.stderr.write(
            `only the first ${r.rowCount} row(s) are shown; more follow (raise --max-rows, or add a LIMIT)\n`,
          );
        }
        if (out.opts.json) {
          out.json({
            columns: r.columns,
            rows: r.rows.map((row) => row.map(toJson)),
            rowCount: r.rowCount,
            truncated: r.truncated,
          });
          return;
        }
        if (o.csv) {
          process.stdout.write(renderCsv(r.columns, r.rows));
          return;
        }
        for (const line of renderTextTable(r.columns, r.rows)) out.data(line);
        out.data(`(${r.rowCount} row${r.rowCount === 1 ? '' : 's'}${r.truncated ? ', more not shown' : ''})`);
      });
    });
}
