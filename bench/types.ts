/**
 * What every scenario gets from the harness.
 */
export interface ScenarioContext {
  /** Smaller sizes (CI smoke, `--quick`). */
  quick: boolean;
  /** Tiny sizes for the smoke test (implies quick). */
  tiny: boolean;
  /** The run's DynamoDB Local (one per run; each scenario makes its own table). */
  dynamodbEndpoint: string;
  /** One progress line on stderr. */
  progress(message: string): void;
  /** Where a scenario writes extra files (e.g. `latency.svg`); returns the repo-relative path. */
  artifacts: ArtifactSink;
  /**
   * The simulated X's latency profile (sim/x/latency.ts) for the scenarios that talk to X: every X call
   * waits a log-normal draw with this median and 99th percentile (real ms). p50 0 = an instant X.
   */
  xLatency: XLatency;
}

/** The X latency profile a run applies. */
export interface XLatency {
  p50Ms: number;
  p99Ms: number;
}

/** Files a scenario produces besides its figures (the latency plot); dropped when the run has no results dir. */
export interface ArtifactSink {
  write(name: string, content: string): string | undefined;
}
