// Entry point: `npm start`. Embedded default without MONGODB_URI; production with it.
import { resolve } from 'node:path';
import { seedDemo } from './app/demo.ts';
import { ConfigError, loadEnv, type AppEnv } from './config/env.ts';
import { loadConfigFiles } from './config/files.ts';
import { MemoryStore } from './adapters/memory/memory-store.ts';
import { MongoStore } from './adapters/mongo/mongo-store.ts';
import { createLogger } from './logger.ts';
import { createTierbot } from './service.ts';
import type { Store } from './ports/store.ts';

function makeStore(env: AppEnv): Store {
  return env.MONGODB_URI ? new MongoStore(env.MONGODB_URI, env.MONGODB_DB) : new MemoryStore();
}

async function main() {
  let env: AppEnv;
  let files;
  try {
    env = loadEnv();
    files = await loadConfigFiles(resolve(process.env.TIERBOT_CONFIG_DIR ?? './config'));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tierbot: refusing to start, ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(env.LOG_LEVEL);
  const store = makeStore(env);
  const bot = await createTierbot({ env, files, store, log });
  const seeded = env.demo && files.demoOrg !== null && (await seedDemo(bot.store, files.demoOrg, bot.clock.now()));
  if (seeded) log.info('seeded the demo org and customers');
  // listen first: what a dead instance left behind (ingest batches, a recompute run, scheduled
  // slots) is finished in the background while the server answers
  const { url } = await bot.listen();
  await bot.startBackground();
  // fresh demo data gets its tiers at once; real data waits for its first schedule or an API call
  if (seeded) bot.recomputer.start().done.catch((err) => log.error({ err }, 'the first recompute failed'));
  const consoleUrl = `${env.PUBLIC_BASE_URL.startsWith('http://127.0.0.1') ? url : env.PUBLIC_BASE_URL}/console`;
  log.info({ url, store: bot.store.kind, platforms: env.platforms }, 'tierbot listening');
  if (env.adminTokenGenerated) {
    console.log(`\n  tierbot is running (${bot.store.kind} store).\n  Console: ${consoleUrl}#token=${env.ADMIN_TOKEN}\n  API token (ADMIN_TOKEN): ${env.ADMIN_TOKEN}\n`);
  } else {
    console.log(`\n  tierbot is running (${bot.store.kind} store).\n  Console: ${consoleUrl}#token=<ADMIN_TOKEN>\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await bot.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error('tierbot: failed to start:', err);
  process.exit(1);
});
