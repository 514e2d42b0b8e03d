/**
 * What the functions would write to CloudWatch Logs: while a capture is on, every JSON line written to
 * stdout or stderr (Powertools log records at the level asked, EMF metric records, and Powertools'
 * plain "No application metrics" warning) is counted in bytes
 * and swallowed; anything else (the bench's own progress line) passes through. CloudWatch bills log
 * ingestion per byte, so this is the figure the cost model prices.
 */
type Write = typeof process.stdout.write;

/** A running capture. */
export interface LogCapture {
  /** Bytes of JSON lines seen so far, and how many lines. */
  bytes(): number;
  lines(): number;
  /** Bytes of EMF records (`_aws` key) among them. */
  emfBytes(): number;
  reset(): void;
  stop(): void;
}

export function captureLogBytes(): LogCapture {
  let bytes = 0;
  let lines = 0;
  let emf = 0;
  const originals: Array<[NodeJS.WriteStream, Write]> = [
    [process.stdout, process.stdout.write],
    [process.stderr, process.stderr.write],
  ];
  for (const [stream, original] of originals) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      // Powertools' plain-text warnings (e.g. "No application metrics to publish") reach CloudWatch too
      if (text.startsWith('{') || text.startsWith('No application metrics')) {
        const n = Buffer.byteLength(text);
        bytes += n;
        lines += text.split('\n').filter((l) => l.trim()).length;
        if (text.includes('"_aws"')) emf += n;
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as Write;
  }
  return {
    bytes: () => bytes,
    lines: () => lines,
    emfBytes: () => emf,
    reset() {
      bytes = 0;
      lines = 0;
      emf = 0;
    },
    stop() {
      for (const [stream, original] of originals) stream.write = original;
    },
  };
}
