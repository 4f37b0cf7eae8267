/**
 * The header-injection guard for values that come from outside SIP (TwiML,
 * webhooks, the REST API) before they are written into a header field.
 */
import { E_CTL_CHAR } from '../errors';
import { isCtl, setStatus } from './uri-headers';

/**
 * Refuse CR, LF, NUL and every other CTL except HTAB in [input, input+len):
 * RFC 3261 §25.1 allows only TEXT-UTF8char and LWS in a header value, and a
 * bare CR or LF would end the header (CRLF injection). UTF-8 bytes pass.
 * Writes U_STATUS and U_ERROR_OFFSET of the URI record at `out`, nothing else.
 * @return 0 or E_CTL_CHAR (offset of the first offending byte in U_ERROR_OFFSET)
 */
export function validateHeaderValue(input: usize, len: i32, out: usize): i32 {
  const end = input + <usize>len;
  for (let p = input; p < end; p++) {
    if (isCtl(load<u8>(p))) return setStatus(out, E_CTL_CHAR, <i32>(p - input));
  }
  return setStatus(out, 0, -1);
}
