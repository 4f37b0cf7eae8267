/**
 * Twilio-style REST errors: `{code, message, more_info, status}` with the
 * HTTP status in `status`. The codes Patchbay answers with, and why:
 *
 * | code  | HTTP | when |
 * |-------|------|------|
 * | 20003 | 401  | missing or wrong Basic credentials (Twilio's "Authenticate") |
 * | 20404 | 404  | unknown path, unknown CallSid, or another account's path |
 * | 20004 | 405  | known resource, unsupported HTTP method |
 * | 400   | 400  | body not `application/x-www-form-urlencoded`, bad percent-encoding or UTF-8, bad paging parameters (Twilio's generic "Bad Request" code) |
 * | 413   | 413  | body over the limit (Twilio has no code for it; like its generic 400/404 codes, the HTTP status is used) |
 * | 21201 | 400  | POST Calls.json without `To` ("No 'To' number specified") |
 * | 21211 | 400  | `To` is not a `sip:`/`sips:` URI, or is 255 characters or longer ("Invalid 'To' Phone Number"; 13223 is the TwiML `<Dial>` warning, 21210 is about `From`) |
 * | 21213 | 400  | POST Calls.json without `From` ("'From' phone number is required") |
 * | 21205 | 400  | `Url` not an absolute http(s) URL, or neither `Url` nor `Twiml` given ("Invalid URL") |
 * | 21209 | 400  | `Method` or `StatusCallbackMethod` not GET/POST ("Invalid Method") |
 * | 21208 | 400  | `Timeout` not a whole number of seconds 1–600 ("Invalid Timeout") |
 * | 21609 | 400  | `StatusCallback` not an absolute http(s) URL ("Invalid 'StatusCallback'") |
 * | 21626 | 400  | a `StatusCallbackEvent` other than initiated, ringing, answered, completed |
 * | 32018 | 400  | `Twiml` over 4000 characters ("Twiml size exceeded maximum allowed value") |
 * | 21220 | 400  | modifying a call that has already ended ("Invalid call state") |
 * | 20500 | 500  | an unexpected failure inside Patchbay |
 * | 20003/503 | 503 | the API has no AccountSid/AuthToken configured |
 *
 * Refusals from the call layer (`ControlError`) pass through with their own
 * code and status.
 */
import { STATUS_CODES } from 'node:http';

/** The JSON body of an error. */
export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** An error to answer with. */
export class ApiError extends Error {
  /** Twilio error code. */
  readonly code: number;
  /** HTTP status. */
  readonly status: number;

  constructor(status: number, code: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }

  /** @return the Twilio-style JSON body. */
  toJSON(): TwilioErrorBody {
    return errorBody(this.status, this.code, this.message);
  }
}

/** @return the Twilio-style error body. */
export function errorBody(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** @return the HTTP status line uWS wants, e.g. `404 Not Found`. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** Shorthand for a 400 with a Twilio code. */
export function badRequest(code: number, message: string): ApiError {
  return new ApiError(400, code, message);
}

/** The 404 every unknown resource gets. */
export function notFound(path: string): ApiError {
  return new ApiError(404, 20404, `The requested resource ${path} was not found`);
}
