export { recordRetryDelays, rejectionOf, strongboxRejection } from "./assertions.ts";
export { type ConformanceOptions, testBackend } from "./conformance.ts";
export { type LeakWatch, renderings, watchForLeaks } from "./leaks.ts";
