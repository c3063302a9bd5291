import { describe, expect, it } from 'vitest';
import {
  buildCallbackAck,
  buildEventAck,
  parseCardCallback,
  parseStreamFrame,
  parseStreamFrameData,
  STREAM_TOPICS,
} from '../../../src/platforms/dingtalk/stream-frame.ts';
import { expectRefused, fixtureText } from '../fixtures.ts';

const robotFrame = fixtureText('dingtalk', 'stream-robot-message-frame.json');
const cardFrame = fixtureText('dingtalk', 'stream-card-callback-frame.json');
const eventFrame = fixtureText('dingtalk', 'stream-event-frame.json');

describe('DingTalk Stream frames', () => {
  it('parses a robot message CALLBACK frame; data stays a string until asked for', () => {
    const frame = parseStreamFrame(robotFrame);
    expect(frame).toMatchObject({ type: 'CALLBACK', headers: { messageId: '212ca9d7_974_1898c159aa6_1783b', topic: STREAM_TOPICS.robot } });
    expect(typeof frame.data).toBe('string');
    expect(parseStreamFrameData(frame)).toMatchObject({ msgtype: 'text', text: { content: ' hi' }, senderStaffId: 'manager4220' });
  });

  it('parses bytes as well as text, and an EVENT frame with its event headers', () => {
    const frame = parseStreamFrame(Buffer.from(eventFrame));
    expect(frame.type).toBe('EVENT');
    expect(frame.headers).toMatchObject({ eventType: 'user_add_org', eventId: 'b7c1a2d3e4f5', topic: '*' });
  });

  it('refuses frames without messageId/topic, a non-string data, an unknown type, or non-JSON → 400', () => {
    const base = JSON.parse(robotFrame);
    const variants = [
      { ...base, headers: { ...base.headers, messageId: undefined } },
      { ...base, headers: { ...base.headers, topic: '' } },
      { ...base, data: { already: 'an object' } },
      { ...base, type: 'PUSH' },
    ];
    for (const v of variants) expectRefused(() => parseStreamFrame(JSON.stringify(v)), 400, 'malformed_body');
    expectRefused(() => parseStreamFrame('not json'), 400, 'malformed_body');
    expectRefused(() => parseStreamFrameData({ ...base, data: '[1,2]' }), 400, 'malformed_body');
  });

  it('parses a card callback: data JSON with a content JSON string inside', () => {
    const action = parseCardCallback(parseStreamFrame(cardFrame).data);
    expect(action).toEqual({
      outTrackId: 'score-sc_1-1690362000',
      userId: 'manager4220',
      corpId: 'ding6ccabc44d2c8d38b',
      actionIds: ['1'],
      params: { action: 'accept' },
      dedupeId: JSON.stringify(['score-sc_1-1690362000', 'manager4220', ['1']]),
    });
    expectRefused(() => parseCardCallback(JSON.stringify({ outTrackId: 'o', userId: 'u', content: '{' })), 400);
    expectRefused(() => parseCardCallback(JSON.stringify({ outTrackId: 'o', content: '{}' })), 400);
  });

  it('builds the CALLBACK ACK exactly as socketCallBackResponse sends it', () => {
    const reply = { cardData: { cardParamMap: { status: 'approved' } } };
    expect(JSON.stringify(buildCallbackAck('mid-1', reply))).toBe(
      '{"code":200,"headers":{"contentType":"application/json","messageId":"mid-1"},"message":"OK",' +
        '"data":"{\\"response\\":{\\"cardData\\":{\\"cardParamMap\\":{\\"status\\":\\"approved\\"}}}}"}',
    );
    expect(buildCallbackAck('mid-2').data).toBe('{"response":null}');
  });

  it('builds the EVENT ACK with a status', () => {
    expect(buildEventAck('mid-3', 'SUCCESS')).toEqual({
      code: 200,
      headers: { contentType: 'application/json', messageId: 'mid-3' },
      message: 'OK',
      data: '{"status":"SUCCESS","message":""}',
    });
    expect(JSON.parse(buildEventAck('mid-4', 'LATER', 'busy').data)).toEqual({ status: 'LATER', message: 'busy' });
  });
});
