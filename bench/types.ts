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
}

/** Files a scenario produces besides its figures (the latency plot); dropped when the run has no results dir. */
export interface ArtifactSink {
  write(name: string, content: string): string | undefined;
}
