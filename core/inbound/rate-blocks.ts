/**
 * The 429 blocks this process has seen, per channel and endpoint, in memory.
 *
 * A 429's block is stored at once (`PollStateStore.blockEndpoint`), but that write can fail together
 * with everything after it: DynamoDB unreachable or throttled, credentials gone, an invocation whose
 * AWS calls all fail while X still answers (soak seed 895: one poll of a batch died on its publish and
 * took the concurrent poll's block write, final write and claim release with it; once the lease ran
 * out the next job read `GET /2/dm_events` inside the 429 window). The container outlives such an
 * invocation, so the next poll it runs for the channel still knows the block and carries it into its
 * own final write. It cannot help a poll that runs in another container, nor a process that dies
 * between X's answer and the write: for those the stored block is all there is.
 */

/** At most this many channels are remembered; the oldest entry goes first (one poll per channel). */
const DEFAULT_MAX_CHANNELS = 10_000;

/** In-memory 429 blocks of one poller process (create it once per cold start). */
export class RecentRateBlocks {
  private readonly byChannel = new Map<string, Map<string, number>>();

  constructor(private readonly maxChannels = DEFAULT_MAX_CHANNELS) {}

  /** Remembers that `endpoint` of `channelId` may not be called before `until` (a later block wins). */
  note(channelId: string, endpoint: string, until: Date): void {
    const at = until.getTime();
    if (!Number.isFinite(at)) return;
    let blocks = this.byChannel.get(channelId);
    if (!blocks) {
      if (this.byChannel.size >= this.maxChannels) {
        const oldest = this.byChannel.keys().next().value;
        if (oldest !== undefined) this.byChannel.delete(oldest);
      }
      blocks = new Map();
      this.byChannel.set(channelId, blocks);
    }
    const held = blocks.get(endpoint);
    if (held === undefined || held < at) blocks.set(endpoint, at);
  }

  /** The blocks of `channelId` still running at `now` (endpoint → ISO time); expired ones are dropped. */
  active(channelId: string, now: Date): Record<string, string> {
    const blocks = this.byChannel.get(channelId);
    if (!blocks) return {};
    const out: Record<string, string> = {};
    for (const [endpoint, at] of blocks) {
      if (at > now.getTime()) out[endpoint] = new Date(at).toISOString();
      else blocks.delete(endpoint);
    }
    if (!blocks.size) this.byChannel.delete(channelId);
    return out;
  }
}
