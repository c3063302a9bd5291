// Placeholder: replaced by the MongoDB-wire server setup.
import type { TestProject } from 'vitest/node';
export default function setup(project: TestProject) {
  project.provide('mongoUri', process.env.MONGODB_URI ?? '');
}
declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}
