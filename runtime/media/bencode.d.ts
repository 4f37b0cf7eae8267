/** Types of the `bencode` package (v4 ships none): only what the NG client uses. */
declare module 'bencode' {
  /** A value bencode can encode. */
  type BencodeValue = string | number | boolean | Uint8Array | BencodeValue[] | { [key: string]: BencodeValue | undefined };
  interface Decode {
    /** Decodes one value; strings come back as Uint8Array (no encoding given). Throws on malformed input. */
    (data: Uint8Array): unknown;
    /** Bytes consumed by the last decode. */
    position: number;
  }
  const bencode: {
    encode(value: BencodeValue): Uint8Array;
    decode: Decode;
  };
  export default bencode;
}
