// Feishu/Lark as one PlatformModule: the messenger (cards to users by open_id and to team chats by chat_id),
// the webhook route POST /webhooks/feishu when a verification token or encrypt key is configured, and the
// long connection when FEISHU_MODE=ws. Both receivers feed the same FeishuInbound mapping.
import type { PlatformFactory } from '../module.ts';
import { PlatformConfigError } from '../shared/errors.ts';
import { FeishuMessenger } from './messenger.ts';
import { FeishuInbound, feishuWebhookRouter } from './receiver.ts';
import { FeishuLongConnection } from './ws.ts';

export const feishuPlatform: PlatformFactory = ({ env, sink, clock, log, timer }) => {
  const missing = (['FEISHU_APP_ID', 'FEISHU_APP_SECRET'] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new PlatformConfigError('feishu', `set ${missing.join(' and ')}`);
  const webhook = Boolean(env.FEISHU_ENCRYPT_KEY || env.FEISHU_VERIFICATION_TOKEN);
  if (env.FEISHU_MODE === 'webhook' && !webhook) {
    throw new PlatformConfigError('feishu', 'webhook mode needs FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN');
  }

  const flog = log.child({ platform: 'feishu' });
  const messenger = new FeishuMessenger({ env, log: flog, timer });
  const inbound = new FeishuInbound(sink, flog);
  const routes = webhook ? feishuWebhookRouter({ env, clock, log: flog, inbound }) : undefined;
  if (env.FEISHU_MODE !== 'ws') return { platform: 'feishu', messenger, routes };

  const connection = new FeishuLongConnection({ env, log: flog, inbound });
  return {
    platform: 'feishu',
    messenger,
    routes,
    start: () => connection.start(),
    stop: () => connection.stop(),
  };
};
