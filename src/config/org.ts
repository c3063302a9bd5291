// The org as this build's platforms define it: the registered descriptors' account fields (app/inputs.ts).
import { orgParser } from '../app/inputs.ts';
import { platforms } from '../platforms/registry.ts';

export const parseOrg = orgParser(platforms);
