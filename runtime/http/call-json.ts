/**
 * A CallRecord in the JSON shape of Twilio's Call resource (API 2010-04-01):
 * snake_case keys, RFC 2822 dates (`Tue, 10 Aug 2010 08:02:17 +0000`),
 * `duration` and `queue_time` as strings, and the fields Patchbay has no
 * notion of (price, answered_by, phone_number_sid, …) present and null so
 * clients written for Twilio find every key.
 */
import type { CallRecord } from '../calls/record.js';

/** The API version in every path and body. */
export const API_VERSION = '2010-04-01';

/** Twilio's Call resource JSON. */
export interface CallJson {
  sid: string;
  date_created: string;
  date_updated: string;
  parent_call_sid: string | null;
  account_sid: string;
  to: string;
  to_formatted: string;
  from: string;
  from_formatted: string;
  phone_number_sid: string | null;
  status: string;
  start_time: string | null;
  end_time: string | null;
  duration: string | null;
  price: string | null;
  price_unit: string;
  direction: string;
  answered_by: string | null;
  annotation: string | null;
  api_version: string;
  forwarded_from: string | null;
  group_sid: string | null;
  caller_name: string | null;
  queue_time: string;
  trunk_sid: string | null;
  uri: string;
  subresource_uris: Record<string, string>;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** @return epoch milliseconds as an RFC 2822 date in UTC, e.g. `Tue, 10 Aug 2010 08:02:17 +0000`. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} `
    + `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** @return the path of an account's resource, e.g. `/2010-04-01/Accounts/AC…/Calls.json`. */
export function accountPath(accountSid: string, rest: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}/${rest}`;
}

/** Sub-resources Twilio lists for a call (Patchbay serves none of them yet). */
const SUBRESOURCES: ReadonlyArray<readonly [string, string]> = [
  ['feedback', 'Feedback.json'], ['notifications', 'Notifications.json'], ['recordings', 'Recordings.json'],
  ['streams', 'Streams.json'], ['payments', 'Payments.json'], ['user_defined_message_subscriptions', 'UserDefinedMessageSubscriptions.json'],
  ['user_defined_messages', 'UserDefinedMessages.json'], ['events', 'Events.json'], ['siprec', 'Siprec.json'],
];

/** @return the Call resource JSON of `record`. */
export function callJson(record: CallRecord): CallJson {
  const base = accountPath(record.accountSid, `Calls/${record.sid}`);
  const subresources: Record<string, string> = {};
  for (const [key, file] of SUBRESOURCES) subresources[key] = `${base}/${file}`;
  subresources.feedback_summaries = accountPath(record.accountSid, 'Calls/FeedbackSummary.json');
  return {
    sid: record.sid,
    date_created: rfc2822(record.dateCreated),
    date_updated: rfc2822(record.dateUpdated),
    parent_call_sid: record.parentCallSid ?? null,
    account_sid: record.accountSid,
    to: record.to,
    to_formatted: record.to,
    from: record.from,
    from_formatted: record.from,
    phone_number_sid: null,
    status: record.status,
    start_time: record.startTime === undefined ? null : rfc2822(record.startTime),
    end_time: record.endTime === undefined ? null : rfc2822(record.endTime),
    duration: record.duration === undefined ? null : String(record.duration),
    price: null,
    price_unit: 'USD',
    direction: record.direction,
    answered_by: null,
    annotation: null,
    api_version: API_VERSION,
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri: `${base}.json`,
    subresource_uris: subresources,
  };
}
