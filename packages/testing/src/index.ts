export { type ConformanceOptions, testBackend } from "./conformance.ts";
export { type LeakWatch, renderings, watchForLeaks } from "./leaks.ts";
