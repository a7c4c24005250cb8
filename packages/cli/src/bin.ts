#!/usr/bin/env node
import { main } from "./main.ts";

// `strongbox export | head -1`: the reader went away; stop quietly instead of printing a stack.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
