import { type Command, Option } from "commander";
import { type GlobalOptions, outputOf, paint, withManager } from "../context.ts";

/** `credential test NAME`: mints a fresh token to check a credential works; never prints the token. */
export function credentialCommand(program: Command, globals: () => GlobalOptions): void {
  const credential = program.command("credential").description("OAuth2 credentials minted from secrets");
  credential
    .command("test <name>")
    .description("mint a token for a configured credential to check it works (the token is never printed)")
    .addOption(
      new Option("-n, --namespace <namespace>", "the namespace the credential's secrets resolve in").env(
        "STRONGBOX_NAMESPACE",
      ),
    )
    .addOption(new Option("-t, --tenant <tenant>", "the tenant").env("STRONGBOX_TENANT"))
    .option("-o, --output <format>", "text or json")
    .action(async (name: string, options: { namespace?: string; tenant?: string; output?: string }) => {
      const format = outputOf(globals(), options.output);
      await withManager(globals(), async (manager) => {
        // Loaded only here: the other commands never pay for the OAuth libraries.
        const { createCredentials } = await import("@strongbox/credentials");
        const credentials = createCredentials(manager, manager.config.credentials);
        try {
          const result = await credentials.test(name, {
            ...(options.namespace !== undefined && { namespace: options.namespace }),
            ...(options.tenant !== undefined && { tenant: options.tenant }),
          });
          if (format === "json") process.stdout.write(`${JSON.stringify({ name, ok: true, ...result })}\n`);
          else
            process.stdout.write(
              `${paint("green", "ok", process.stdout)} ${name}: a ${result.tokenType} token was issued${result.expiresAt ? `, expiring ${result.expiresAt.toISOString()}` : ""}${result.scope ? ` (scope ${result.scope})` : ""}\n`,
            );
        } finally {
          credentials.close();
        }
      });
    });
}
