import { do_not_optimize, measure } from "mitata";

/** What one benchmark id writes into `bench/results.json`. */
export interface BenchResult {
  /** What is measured, in a sentence. */
  description: string;
  /** The goal, in words ("ratioToLimit <= 2"). */
  goal: string;
  /** Whether the goal was met in this run. */
  pass: boolean;
  /** Our figure over the limit's, measured in the same run. */
  ratioToLimit?: number;
  /** Our figure over each peer's, measured in the same run. */
  ratioToPeers?: Record<string, number>;
  /** Any other figures (times in ns, counts). */
  [figure: string]: unknown;
}

/** A suite file in `bench/src/suites/` exports `run`, which returns results keyed by benchmark id. */
export type Suite = () => Promise<Record<string, BenchResult>>;

/** Median time of one call, in ns (mitata; async functions are awaited). */
export async function timeNs(fn: () => unknown, options: { minSamples?: number } = {}): Promise<number> {
  const stats = await measure(
    async () => {
      do_not_optimize(await fn());
    },
    { min_samples: options.minSamples ?? 50, min_cpu_time: 300 * 1e6 },
  );
  return stats.p50;
}

/** Rounds a ratio for printing and storing. */
export function ratio(ours: number, theirs: number): number {
  return Number((ours / theirs).toPrecision(3));
}

/**
 * Times ours and the limit alternately, five rounds each, and keeps each one's best median:
 * on a shared machine, load that comes and goes then weighs on both alike.
 */
export async function paired(
  ours: () => unknown,
  limit: () => unknown,
  rounds = 5,
): Promise<{ oursNs: number; limitNs: number }> {
  const times = { ours: [] as number[], limit: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    times.limit.push(await timeNs(limit));
    times.ours.push(await timeNs(ours));
  }
  return { oursNs: Math.min(...times.ours), limitNs: Math.min(...times.limit) };
}

/** One round's pair of functions to time, on resources opened for that round. */
export interface Round {
  ours: () => unknown;
  limit: () => unknown;
  close: () => Promise<void>;
}

/**
 * Like {@link paired}, but each round opens its own resources (`open`) and the result is the
 * median of the rounds. For a server on the same machine: which core its process lands on decides
 * much of a round trip (a wake-up on the client's own core costs half as much), and that is drawn
 * again for every connection. Fresh connections each round give both sides the same draws, and the
 * median keeps one lucky connection from deciding the ratio.
 */
export async function pairedRounds(
  open: () => Promise<Round>,
  rounds = 7,
): Promise<{ oursNs: number; limitNs: number; rounds: { oursNs: number; limitNs: number }[] }> {
  const measured: { oursNs: number; limitNs: number }[] = [];
  for (let index = 0; index < rounds; index++) {
    const round = await open();
    try {
      const limitNs = await timeNs(round.limit);
      const oursNs = await timeNs(round.ours);
      measured.push({ oursNs, limitNs });
    } finally {
      await round.close();
    }
  }
  return {
    oursNs: median(measured.map((m) => m.oursNs)),
    limitNs: median(measured.map((m) => m.limitNs)),
    rounds: measured,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
