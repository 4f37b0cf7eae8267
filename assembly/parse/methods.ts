/**
 * Known SIP methods and their ids (index = id; 0 = extension method).
 * Methods are case-sensitive (RFC 3261 §7.1). Copied to runtime/wasm/abi.generated.ts by scripts/gen-abi.mjs.
 */
export const METHOD_NAMES: string[] = [
  '', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE',
  'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
];

export const METHOD_INVITE: i32 = 1;
export const METHOD_REFER: i32 = 12;

/** @return the method id of the bytes [p, p+len), 0 for an extension method. */
export function lookupMethod(p: usize, len: i32): i32 {
  if (len < 3 || len > 9) return 0;
  // first byte narrows the candidates to one or two names
  const c = load<u8>(p);
  let id = 0;
  if (c == 0x49) id = len == 6 ? 1 : 11; // INVITE / INFO
  else if (c == 0x41) id = 2; // ACK
  else if (c == 0x42) id = 3; // BYE
  else if (c == 0x43) id = 4; // CANCEL
  else if (c == 0x4f) id = 5; // OPTIONS
  else if (c == 0x52) id = len == 8 ? 6 : 12; // REGISTER / REFER
  else if (c == 0x50) id = len == 5 ? 7 : 10; // PRACK / PUBLISH
  else if (c == 0x53) id = 8; // SUBSCRIBE
  else if (c == 0x4e) id = 9; // NOTIFY
  else if (c == 0x4d) id = 13; // MESSAGE
  else if (c == 0x55) id = 14; // UPDATE
  else return 0;
  const name = METHOD_NAMES[id];
  if (name.length != len) return 0;
  const np = changetype<usize>(name);
  for (let i = 1; i < len; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(np + (<usize>i << 1))) return 0;
  }
  return id;
}
