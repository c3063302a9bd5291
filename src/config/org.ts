// The org as this build's platforms define it: the registered descriptors' account fields (app/inputs.ts).
import { orgParser, orgSchemaFor } from '../app/inputs.ts';
import { platforms } from '../platforms/registry.ts';

export const parseOrg = orgParser(platforms);
/** The org document's schema, as PUT /api/v1/org validates it (before the cross-reference checks). */
export const orgSchema = orgSchemaFor(platforms);
