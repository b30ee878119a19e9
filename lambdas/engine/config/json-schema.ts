/** JSON Schemas of connections.yml and pipelines/*.yml for editors, generated from the zod schemas. */
import { z } from 'zod';
import { connectionsFileSchema, pipelineFileSchema } from './schemas.js';

export interface ConfigJsonSchemas {
  connections: Record<string, unknown>;
  pipeline: Record<string, unknown>;
}

export function configJsonSchema(): ConfigJsonSchemas {
  const opts = { io: 'input', unrepresentable: 'any' } as const;
  return {
    connections: { title: 'Highwater connections.yml', ...z.toJSONSchema(connectionsFileSchema, opts) },
    pipeline: { title: 'Highwater pipelines/NAME.yml', ...z.toJSONSchema(pipelineFileSchema, opts) },
  };
}
