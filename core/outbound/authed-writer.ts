/**
 * One channel's X writer with the sender's auth retry: a valid token first; on a 401 one forced refresh
 * and one more try. `calling` is the endpoint of the call under way (a 429 closes that one).
 */
import { isChannelError } from '../errors';
import type { TokenProvider } from '../ports';
import type { XRateObservation, XWriter, XWriterFactory } from './ports';

export class AuthedWriter {
  private writer: XWriter | null = null;
  calling: string | null = null;

  constructor(
    private readonly deps: { tokens: TokenProvider; writerFor: XWriterFactory },
    private readonly channelId: string,
    private readonly event: (name: string) => void,
    private readonly observe: (o: XRateObservation) => void,
  ) {}

  async call<T>(endpoint: string, call: (w: XWriter) => Promise<T>): Promise<T> {
    const { deps, channelId } = this;
    this.calling = null;
    if (!this.writer)
      this.writer = deps.writerFor(await deps.tokens.getValidAccessToken(channelId), this.observe);
    try {
      this.calling = endpoint;
      const value = await call(this.writer);
      this.calling = null;
      return value;
    } catch (error) {
      if (!isChannelError(error) || error.kind !== 'needs_reauth') throw error;
      this.calling = null;
      this.event('token_refused_refreshing');
      const fresh = await deps.tokens.getValidAccessToken(channelId, { forceRefresh: true });
      this.writer = deps.writerFor(fresh, this.observe);
      this.calling = endpoint;
      const value = await call(this.writer);
      this.calling = null;
      return value;
    }
  }
}
