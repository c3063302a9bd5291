// The platforms tierbot can talk to. A new platform is one folder with a factory, listed here.
import type { PlatformName } from '../config/env.ts';
import { dingtalkPlatform } from './dingtalk/index.ts';
import { feishuPlatform } from './feishu/index.ts';
import type { PlatformFactory } from './module.ts';
import { wecomPlatform } from './wecom/index.ts';

export const platformFactories: Record<PlatformName, PlatformFactory> = {
  feishu: feishuPlatform,
  wecom: wecomPlatform,
  dingtalk: dingtalkPlatform,
};
