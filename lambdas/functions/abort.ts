/** Lambda entry point of the Abort state (the Catch target of every step after Plan). */
import { abort } from '../handlers/abort.js';
import { invokeStep } from './invoke.js';

export const handler = async (event: unknown) => invokeStep('Abort', event, abort);
