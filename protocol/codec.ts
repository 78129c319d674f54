/**
 * The game protocol: one binary codec shared by the WebSocket and WebRTC transports, the bot client
 * and the browser. Only ArrayBuffer/DataView/Uint8Array/TextEncoder are used, so it runs unchanged
 * in Node and in browsers.
 *
 * Wire format (little-endian throughout):
 * - A client frame holds exactly one message: `u8 type` followed by that type's fields.
 * - A server frame holds one or more messages back to back (the server batches per connection per
 *   flush); each message is self-delimiting.
 * - Strings are UTF-8 with a length prefix (`str8`: u8 byte count, `str16`: u16 byte count).
 * - `hello` keeps its layout (`u8 1, u16 version, str16 token`) in every protocol version, so a
 *   server can always answer an old client with `bad_version`.
 *
 * Decoding never throws: malformed input yields a `DecodeFailure` carrying a stable error code.
 *
 * This module is the codec's one entry point; its parts are the message definitions
 * (./messages.ts), the byte writer and reader (./bytes.ts), client → server frames
 * (./client-frames.ts) and server → client frames (./server-frames.ts). Error codes: ./errors.ts.
 */
export * from './messages.ts';
export { FrameWriter } from './bytes.ts';
export * from './client-frames.ts';
export * from './server-frames.ts';
