/**
 * The Calls resource driven by the official twilio client over real HTTP on
 * loopback: create, fetch, list with paging and filters, redirect, hang up,
 * and the Twilio error codes of bad parameters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SID, completedRecord, startApi, type ApiFixture } from './helpers.js';
import { rfc2822 } from '../../../runtime/http/call-json.js';

const TO = 'sip:bob@127.0.0.1:5070';
const TWIML_URL = 'https://app.example.com/twiml';

/** The RestException the twilio client rejects with. */
interface RestError { status: number; code: number; message: string; moreInfo: string }

async function restError(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (e) {
    return e as RestError;
  }
  throw new Error('expected the request to fail');
}

describe('Calls API with the twilio client', () => {
  let api: ApiFixture;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());
  afterEach(() => {
    api.control.refuse = undefined;
  });

  it('creates a call with every parameter and returns 201 with the Call resource', async () => {
    const call = await api.client.calls.create({
      to: TO, from: 'alice', url: TWIML_URL, method: 'GET', statusCallback: 'https://app.example.com/status',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'], statusCallbackMethod: 'POST', timeout: 25,
      sipAuthUsername: 'user', sipAuthPassword: 'pass',
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');
    expect(call.direction).toBe('outbound-api');
    expect(call.accountSid).toBe(ACCOUNT_SID);
    expect(call.apiVersion).toBe('2010-04-01');
    expect(call.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${call.sid}.json`);
    expect(api.control.originated.at(-1)).toEqual({
      to: TO, from: 'alice', url: TWIML_URL, method: 'GET', statusCallback: 'https://app.example.com/status',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'], statusCallbackMethod: 'POST', timeout: 25,
      sipAuthUsername: 'user', sipAuthPassword: 'pass',
    });
  });

  it('accepts inline TwiML and space-separated StatusCallbackEvent', async () => {
    const res = await fetch(`${api.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, {
      method: 'POST', headers: { Authorization: api.auth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: 'sips:carol@example.com', From: '+15551234', Twiml: '<Response><Hangup/></Response>', StatusCallbackEvent: 'ringing answered', Timeout: '9999' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(api.control.originated.at(-1)).toEqual({
      to: 'sips:carol@example.com', from: '+15551234', twiml: '<Response><Hangup/></Response>', statusCallbackEvent: ['ringing', 'answered'], timeout: 600,
    });
  });

  it('serves the exact Twilio Call JSON keys, RFC 2822 dates and string duration', async () => {
    const record = completedRecord({ parentCallSid: `CA${'1'.repeat(32)}` });
    api.store.restore([record]);
    const res = await fetch(`${api.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${record.sid}.json`, { headers: { Authorization: api.auth } });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'account_sid', 'annotation', 'answered_by', 'api_version', 'caller_name', 'date_created', 'date_updated', 'direction', 'duration',
      'end_time', 'forwarded_from', 'from', 'from_formatted', 'group_sid', 'parent_call_sid', 'phone_number_sid', 'price', 'price_unit',
      'queue_time', 'sid', 'start_time', 'status', 'subresource_uris', 'to', 'to_formatted', 'trunk_sid', 'uri',
    ]);
    expect(body).toMatchObject({
      sid: record.sid, status: 'completed', duration: '60', queue_time: '0', price: null, answered_by: null,
      date_created: 'Tue, 02 Jan 2024 03:04:05 +0000', start_time: 'Tue, 02 Jan 2024 03:04:10 +0000', end_time: 'Tue, 02 Jan 2024 03:05:10 +0000',
      parent_call_sid: record.parentCallSid, to: 'sip:bob@example.com', from: 'sip:alice@example.com', direction: 'inbound',
    });
    const fetched = await api.client.calls(record.sid).fetch();
    expect(fetched.startTime?.toISOString()).toBe('2024-01-02T03:04:10.000Z');
    expect(fetched.duration).toBe('60');
    expect(rfc2822(Date.UTC(2010, 7, 10, 8, 2, 17))).toBe('Tue, 10 Aug 2010 08:02:17 +0000');
  });

  it('404s an unknown CallSid (20404) and a path without .json', async () => {
    const e = await restError(api.client.calls(`CA${'9'.repeat(32)}`).fetch());
    expect(e.status).toBe(404);
    expect(e.code).toBe(20404);
    expect(e.moreInfo).toBe('https://www.twilio.com/docs/errors/20404');
    const record = completedRecord();
    api.store.restore([record]);
    const res = await fetch(`${api.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${record.sid}`, { headers: { Authorization: api.auth } });
    expect(res.status).toBe(404);
  });

  it('lists newest first with Twilio paging, and the client follows next_page_uri', async () => {
    const local = await startApi();
    try {
      const records = Array.from({ length: 7 }, (_, i) => completedRecord({ dateCreated: Date.UTC(2024, 0, 1, 0, 0, i), status: i % 2 ? 'busy' : 'completed' }));
      local.store.restore(records);
      const res = await fetch(`${local.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?PageSize=3&Page=1`, { headers: { Authorization: local.auth } });
      const page = await res.json() as Record<string, unknown> & { calls: Array<{ sid: string }> };
      const base = `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`;
      expect(page).toMatchObject({
        page: 1, page_size: 3, start: 3, end: 5, uri: `${base}?PageSize=3&Page=1`, first_page_uri: `${base}?PageSize=3&Page=0`,
        next_page_uri: `${base}?PageSize=3&Page=2`, previous_page_uri: `${base}?PageSize=3&Page=0`,
      });
      expect(page.calls.map((c) => c.sid)).toEqual([records[3]!.sid, records[2]!.sid, records[1]!.sid]);
      const all = await local.client.calls.list({ pageSize: 2 });
      expect(all.map((c) => c.sid)).toEqual([...records].reverse().map((r) => r.sid));
      const busy = await local.client.calls.list({ status: 'busy', pageSize: 1 });
      expect(busy.map((c) => c.sid)).toEqual([records[5]!.sid, records[3]!.sid, records[1]!.sid]);
      const first = await local.client.calls.page({ pageSize: 1000 });
      expect(first.instances).toHaveLength(7);
      expect(first.nextPageUrl).toBeUndefined();
      const last = await fetch(`${local.base}${base}?PageSize=5000&Page=9`, { headers: { Authorization: local.auth } });
      expect(await last.json()).toMatchObject({ page_size: 1000, calls: [], next_page_uri: null, start: 9000 });
    } finally {
      local.close();
    }
  });

  it('filters by StartTime and EndTime (a day, on or before, on or after) as the twilio client sends them, and keeps them in page URIs', async () => {
    const local = await startApi();
    try {
      const at = (d: number, h: number): number => Date.UTC(2024, 0, d, h);
      const jan1 = completedRecord({ dateCreated: at(1, 9), startTime: at(1, 10), endTime: at(1, 11) });
      const jan2 = completedRecord({ dateCreated: at(2, 9), startTime: at(2, 10), endTime: at(3, 1) });
      const jan3 = completedRecord({ dateCreated: at(3, 9), startTime: at(3, 10), endTime: at(3, 11) });
      const never = completedRecord({ dateCreated: at(2, 12), startTime: undefined, endTime: at(2, 12), status: 'busy' });
      local.store.restore([jan1, jan2, jan3, never]);
      const sids = (calls: Array<{ sid: string }>): string[] => calls.map((c) => c.sid);
      // the client sends StartTime=2024-01-02T00:00:00Z (that second) for a Date; a plain day goes by hand
      const day = await fetch(`${local.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?StartTime=2024-01-02`, { headers: { Authorization: local.auth } });
      expect(sids(((await day.json()) as { calls: Array<{ sid: string }> }).calls)).toEqual([jan2.sid]);
      expect(sids(await local.client.calls.list({ startTimeAfter: new Date(at(2, 0)) }))).toEqual([jan3.sid, jan2.sid]);
      expect(sids(await local.client.calls.list({ startTimeBefore: new Date(at(2, 10)) }))).toEqual([jan2.sid, jan1.sid]);
      expect(sids(await local.client.calls.list({ startTime: new Date(at(3, 10)) }))).toEqual([jan3.sid]);
      expect(sids(await local.client.calls.list({ endTimeAfter: new Date(at(3, 0)) }))).toEqual([jan3.sid, jan2.sid]);
      expect(sids(await local.client.calls.list({ endTimeBefore: new Date(at(2, 12)), startTimeAfter: new Date(at(1, 0)) }))).toEqual([jan1.sid]);
      expect(sids(await local.client.calls.list({ endTime: new Date(at(2, 12)) }))).toEqual([never.sid]);
      const paged = await fetch(`${local.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?${encodeURIComponent('StartTime>')}=2024-01-01&PageSize=1`, { headers: { Authorization: local.auth } });
      const page = (await paged.json()) as { next_page_uri: string; calls: Array<{ sid: string }> };
      expect(sids(page.calls)).toEqual([jan3.sid]);
      expect(new URLSearchParams(page.next_page_uri.split('?')[1]).get('StartTime>')).toBe('2024-01-01');
      for (const bad of ['2024-13-01', 'yesterday', '2024-01-02T10:00']) {
        const res = await fetch(`${local.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?EndTime=${bad}`, { headers: { Authorization: local.auth } });
        expect(res.status, bad).toBe(400);
        expect(((await res.json()) as { message: string }).message).toContain('EndTime');
      }
    } finally {
      local.close();
    }
  });

  it('filters by To, From and ParentCallSid', async () => {
    const local = await startApi();
    try {
      const parent = completedRecord({ to: 'sip:ivr@example.com' });
      const child = completedRecord({ parentCallSid: parent.sid, from: 'sip:ivr@example.com', direction: 'outbound-dial' });
      local.store.restore([parent, child, completedRecord()]);
      expect((await local.client.calls.list({ to: 'sip:ivr@example.com' })).map((c) => c.sid)).toEqual([parent.sid]);
      expect((await local.client.calls.list({ from: 'sip:ivr@example.com' })).map((c) => c.sid)).toEqual([child.sid]);
      expect((await local.client.calls.list({ parentCallSid: parent.sid })).map((c) => c.sid)).toEqual([child.sid]);
      const bad = await fetch(`${local.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?PageSize=abc`, { headers: { Authorization: local.auth } });
      expect(bad.status).toBe(400);
    } finally {
      local.close();
    }
  });

  it('redirects a live call to a Url or to Twiml, and hangs it up', async () => {
    const call = await api.client.calls.create({ to: TO, from: 'alice', url: TWIML_URL });
    await api.client.calls(call.sid).update({ url: 'https://app.example.com/next', method: 'GET' });
    expect(api.control.redirects.at(-1)).toEqual({ sid: call.sid, source: { url: 'https://app.example.com/next', method: 'GET' } });
    await api.client.calls(call.sid).update({ twiml: '<Response><Pause/></Response>' });
    expect(api.control.redirects.at(-1)).toEqual({ sid: call.sid, source: { twiml: '<Response><Pause/></Response>' } });
    const ended = await api.client.calls(call.sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    expect(api.control.ends.at(-1)).toEqual({ sid: call.sid, status: 'completed' });
    const again = await restError(api.client.calls(call.sid).update({ status: 'completed' }));
    expect([again.status, again.code]).toEqual([400, 21220]);
  });

  it('cancels a ringing call', async () => {
    const call = await api.client.calls.create({ to: TO, from: 'alice', url: TWIML_URL });
    const canceled = await api.client.calls(call.sid).update({ status: 'canceled' });
    expect(canceled.status).toBe('canceled');
  });

  it.each([
    ['empty To', { to: '', from: 'alice', url: TWIML_URL }, 21201],
    ['tel: To', { to: 'tel:+15551234', from: 'alice', url: TWIML_URL }, 21211],
    ['To without scheme', { to: 'bob@example.com', from: 'alice', url: TWIML_URL }, 21211],
    ['To of 255+ characters', { to: `sip:${'b'.repeat(260)}@example.com`, from: 'alice', url: TWIML_URL }, 21211],
    ['empty From', { to: TO, from: '', url: TWIML_URL }, 21213],
    ['neither Url nor Twiml', { to: TO, from: 'alice' }, 21205],
    ['relative Url', { to: TO, from: 'alice', url: '/relative' }, 21205],
    ['ftp Url', { to: TO, from: 'alice', url: 'ftp://example.com/x' }, 21205],
    ['Method PUT', { to: TO, from: 'alice', url: TWIML_URL, method: 'PUT' }, 21209],
    ['StatusCallbackMethod DELETE', { to: TO, from: 'alice', url: TWIML_URL, statusCallbackMethod: 'DELETE' }, 21209],
    ['negative Timeout', { to: TO, from: 'alice', url: TWIML_URL, timeout: -1 }, 21208],
    ['StatusCallback not a URL', { to: TO, from: 'alice', url: TWIML_URL, statusCallback: 'not a url' }, 21609],
    ['unknown StatusCallbackEvent', { to: TO, from: 'alice', url: TWIML_URL, statusCallbackEvent: ['hungup'] }, 21626],
    ['Twiml over 4000 characters', { to: TO, from: 'alice', twiml: `<Response>${' '.repeat(4000)}</Response>` }, 32018],
  ])('refuses %s with Twilio code %i', async (_label, params, code) => {
    const e = await restError(api.client.calls.create(params as never));
    expect(e.status).toBe(400);
    expect(e.code).toBe(code);
    expect(e.message).not.toBe('');
  });

  it('passes a call-layer refusal through with its code and status', async () => {
    api.control.refuse = { code: 13223, message: 'invalid SIP URI', status: 400 };
    const e = await restError(api.client.calls.create({ to: 'sip:@@', from: 'alice', url: TWIML_URL }));
    expect([e.status, e.code, e.message]).toEqual([400, 13223, 'invalid SIP URI']);
  });

  it('refuses bad updates', async () => {
    const call = await api.client.calls.create({ to: TO, from: 'alice', url: TWIML_URL });
    expect((await restError(api.client.calls(call.sid).update({ status: 'busy' as never }))).status).toBe(400);
    expect((await restError(api.client.calls(call.sid).update({}))).status).toBe(400);
    expect((await restError(api.client.calls(call.sid).update({ url: 'nope' }))).code).toBe(21205);
    expect((await restError(api.client.calls(call.sid).update({ url: TWIML_URL, method: 'PATCH' as never }))).code).toBe(21209);
    expect((await restError(api.client.calls(`CA${'8'.repeat(32)}`).update({ status: 'completed' }))).code).toBe(20404);
  });
});
