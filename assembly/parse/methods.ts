/**
 * Known SIP methods and their ids (index = id; 0 = extension method).
 * Methods are case-sensitive (RFC 3261 §7.1). Mirrored in runtime/wasm/abi.ts.
 */
export const METHOD_NAMES: string[] = [
  '', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE',
  'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
];

export const METHOD_INVITE: i32 = 1;
export const METHOD_REFER: i32 = 12;

/** @return the method id of the bytes [p, p+len), 0 for an extension method. */
export function lookupMethod(p: usize, len: i32): i32 {
  for (let id = 1; id < METHOD_NAMES.length; id++) {
    const name = METHOD_NAMES[id];
    if (name.length != len) continue;
    const np = changetype<usize>(name);
    let same = true;
    for (let i = 0; i < len; i++) {
      if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(np + (<usize>i << 1))) {
        same = false;
        break;
      }
    }
    if (same) return id;
  }
  return 0;
}
