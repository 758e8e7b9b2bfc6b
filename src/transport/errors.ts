/** A Chat frame bigger than the configured maximum, refused before it is sent or buffered. */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError'
  constructor (readonly size: number, readonly max: number, readonly direction: 'send' | 'receive', remote: string) {
    super(direction === 'send'
      ? `message of ${size} bytes to ${remote} exceeds the maximum message size of ${max} bytes`
      : `frame of ${size} bytes from ${remote} exceeds the maximum message size of ${max} bytes`)
  }
}

/** A frame that is not a protos.Message (or a broken length prefix). */
export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError'
}

/** Sending on a stream that was closed, locally or by the remote side. */
export class StreamClosedError extends Error {
  override name = 'StreamClosedError'
}

/** Too many sends waiting for the transport to drain: the caller is outrunning the remote reader. */
export class SendQueueFullError extends Error {
  override name = 'SendQueueFullError'
}
