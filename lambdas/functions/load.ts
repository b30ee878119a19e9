/** Lambda entry point of the Load state. */
import { load } from '../handlers/load.js';
import { invokeStep } from './invoke.js';

export const handler = async (event: unknown) => invokeStep('Load', event, load);
