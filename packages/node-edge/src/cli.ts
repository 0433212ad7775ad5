import { readFileSync } from "node:fs";
import { UsageError } from "./flags.js";
import { serveCommand } from "./serve-command.js";

const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const HELP = `rennet ${VERSION}: a small, fast Kubernetes Ingress controller and edge proxy

Usage:
  rennet <command> [flags]

Commands:
  serve          Run the ingress proxy (see "rennet serve --help")
  version        Print the rennet and Node versions

Flags:
  -h, --help     Show this help
  -v, --version  Same as the version command
`;

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "version" || command === "-v" || command === "--version") {
    if (rest.length > 0) return usageError(`version takes no arguments, got "${rest.join(" ")}"`);
    process.stdout.write(`rennet ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (command === "serve") {
    try {
      return await serveCommand(rest);
    } catch (error) {
      if (error instanceof UsageError) return usageError(error.message, "rennet serve --help");
      process.stderr.write(`rennet: ${(error as Error).message}\n`);
      return 1;
    }
  }
  return usageError(`unknown command "${command}"`);
}

function usageError(message: string, help = "rennet --help"): number {
  process.stderr.write(`rennet: ${message}\nRun "${help}" for usage.\n`);
  return 2;
}
