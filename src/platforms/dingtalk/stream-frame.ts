// DingTalk Stream-mode frames (open-dingtalk/developerpedia docs/learn/stream/protocol.md; card callbacks:
// https://open.dingtalk.com/document/orgapp/event-callback-card) as pure functions: validate a downstream frame,
// read its data, parse a card callback, and build the upstream ACK. The transport (dingtalk-stream's
// DWClient or a test fake) stays outside.
import { z } from 'zod';
import { parseJsonObject, type JsonObject } from '../shared/request-input.ts';
import { parseWith } from '../shared/schema.ts';

export const STREAM_TOPICS = {
  robot: '/v1.0/im/bot/messages/get',
  card: '/v1.0/card/instances/callback',
} as const;

const optional = z.string().optional();

const frameSchema = z.looseObject({
  specVersion: optional,
  type: z.enum(['SYSTEM', 'EVENT', 'CALLBACK']),
  headers: z.looseObject({
    /** dedupe key for every frame */
    messageId: z.string().min(1),
    topic: z.string().min(1),
    contentType: optional,
    time: optional,
    appId: optional,
    connectionId: optional,
    // EVENT frames only
    eventType: optional,
    eventId: optional,
    eventCorpId: optional,
    eventBornTime: optional,
    eventUnifiedAppId: optional,
  }),
  /** a JSON string, not an object */
  data: z.string(),
});

export type StreamFrame = z.output<typeof frameSchema>;

/** Validates one downstream frame (text or bytes off the socket); 400 `malformed_body` when it is not one. */
export function parseStreamFrame(raw: string | Uint8Array): StreamFrame {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  return parseWith(frameSchema, parseJsonObject(text, 'stream frame'), 'stream frame');
}

/** The frame's `data` parsed: it must be a JSON object. */
export function parseStreamFrameData(frame: StreamFrame): JsonObject {
  return parseJsonObject(frame.data, 'stream frame data');
}

export interface StreamAckFrame {
  code: 200;
  headers: { contentType: 'application/json'; messageId: string };
  message: 'OK';
  data: string;
}

function ack(messageId: string, data: unknown): StreamAckFrame {
  return { code: 200, headers: { contentType: 'application/json', messageId }, message: 'OK', data: JSON.stringify(data) };
}

/** ACK of a CALLBACK frame (robot message, card action): `data = {"response": …}` — what socketCallBackResponse sends. */
export function buildCallbackAck(messageId: string, response: unknown = null): StreamAckFrame {
  return ack(messageId, { response: response ?? null });
}

/** ACK of an EVENT frame: `SUCCESS`, or `LATER` to have it redelivered. */
export function buildEventAck(messageId: string, status: 'SUCCESS' | 'LATER', message = ''): StreamAckFrame {
  return ack(messageId, { status, message });
}

// ---- Card callback data (topic /v1.0/card/instances/callback) ----

const cardCallbackSchema = z.looseObject({
  type: optional,
  outTrackId: z.string().min(1),
  userId: z.string().min(1),
  corpId: optional,
  /** another JSON string */
  content: z.string(),
});

const cardContentSchema = z.looseObject({
  cardPrivateData: z.looseObject({
    actionIds: z.array(z.string()).default([]),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
});

export interface DingtalkCardAction {
  outTrackId: string;
  /** the clicking user's userId (the staff id used for sending) */
  userId: string;
  corpId: string | undefined;
  actionIds: string[];
  /** the button's 回传参数 */
  params: Record<string, unknown>;
  /** dedupe key for the click (docs/architecture.md, "Event dedupe"): outTrackId + userId + actionIds */
  dedupeId: string;
}

/** Parses a card callback's `data` (JSON whose `content` is JSON again). */
export function parseCardCallback(data: string): DingtalkCardAction {
  const callback = parseWith(cardCallbackSchema, parseJsonObject(data, 'card callback'), 'card callback');
  const content = parseWith(cardContentSchema, parseJsonObject(callback.content, 'card content'), 'card content');
  const { actionIds, params } = content.cardPrivateData;
  return {
    outTrackId: callback.outTrackId,
    userId: callback.userId,
    corpId: callback.corpId,
    actionIds,
    params,
    dedupeId: JSON.stringify([callback.outTrackId, callback.userId, actionIds]),
  };
}
