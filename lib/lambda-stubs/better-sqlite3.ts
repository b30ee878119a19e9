/** `better-sqlite3` in the Lambda bundles: its default export (the Database class), failing when used. */
import { unavailableClass } from './unavailable.js';

const Database = unavailableClass('better-sqlite3');
export default Database;
