/**
 * The `ecl` command line: `ecl master`, `ecl read`, `ecl log`. This file only parses arguments
 * and hands them to `lib/commands/`; each command is loaded when it is run.
 *
 * @example Run from source
 * ```sh
 * deno run -A cli.ts read ecl.yml -g requests -i 5m
 * ```
 * @module
 */
import { ExitCode, exitCodeFor, isUserError } from "./lib/commands/_exit.ts";
import { READ_FORMATS, type ReadFormat, type ReadWhich } from "./lib/commands/_options.ts";
import { VERSION } from "./lib/version.ts";

const CONFIG = ["<CONFIG>", "YAML file with the groups and the Redis connection"] as const;
const DESCRIPTION = "Event Count Logger: counts of named events per time interval, shared in Redis";
const VERSION_FLAGS = "-V, --version";
const VERSION_HELP = "print the version, Deno version and target";
const HELP_FLAGS = "-h, --help";
const HELP_HELP = "display help for command";

/**
 * The commands: their arguments and descriptions. The top-level help is printed from this table
 * without loading the argument parser (commander); the parser's commands are declared from it.
 */
const COMMANDS = {
  master: {
    args: [CONFIG],
    description: "rotate the counters at every interval boundary (run one or more per Redis)",
  },
  read: {
    args: [CONFIG],
    description: "print event:count lines of the last finished interval of a group",
  },
  log: {
    args: [
      CONFIG,
      ["<GROUP>", "group of the event"],
      ["[EVENT]", "event ID (not with --stdin)"],
      ["[COUNT]", "how many occurrences (a whole number, default 1)"],
    ],
    description: "log COUNT occurrences of EVENT in GROUP; exits 0 once Redis has them",
  },
  serve: {
    args: [CONFIG],
    description: "serve Prometheus metrics (GET /metrics) and a health check (GET /healthz)",
  },
  status: {
    args: [CONFIG],
    description:
      "check Redis, the master lease and the rotations; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
  },
} as const;

function versionText(): string {
  return `ecl ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`;
}

/** `ecl --help`, in commander's layout (a test keeps the two equal). */
export function topLevelHelp(): string {
  const rows = (entries: [string, string][]) => {
    const width = Math.max(...allTerms.map((term) => term.length)) + 2;
    return entries.map(([term, text]) => `  ${term.padEnd(width)}${text}`).join("\n");
  };
  const options: [string, string][] = [[VERSION_FLAGS, VERSION_HELP], [HELP_FLAGS, HELP_HELP]];
  const commands: [string, string][] = [
    ...Object.entries(COMMANDS).map(([name, command]): [string, string] => [
      `${name} [options] ${command.args.map(([arg]) => arg).join(" ")}`,
      command.description,
    ]),
    ["help [command]", HELP_HELP],
  ];
  const allTerms = [...options, ...commands].map(([term]) => term);
  return `Usage: ecl [options] [command]\n\n${DESCRIPTION}\n\nOptions:\n${rows(options)}\n\n` +
    `Commands:\n${rows(commands)}\n`;
}

/** Route every Redis connection of a one-shot command through the small RESP client. */
async function useRespClient(): Promise<void> {
  const { useRespConnections } = await import("./lib/resp.ts");
  useRespConnections();
}

/** The argument parser: loaded only to parse a command's arguments. */
async function buildProgram(setExitCode: (code: number) => void) {
  const { Command, Option } = await import("commander");
  const program = new Command("ecl")
    .description(DESCRIPTION)
    .version(versionText(), VERSION_FLAGS, VERSION_HELP)
    .helpOption(HELP_FLAGS, HELP_HELP)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`ERROR: ${text.replace(/^error: /, "")}`),
    });
  const command = (name: keyof typeof COMMANDS) => {
    const spec = COMMANDS[name];
    const command = program.command(name).description(spec.description);
    for (const [arg, description] of spec.args) command.argument(arg, description);
    return command;
  };

  command("master")
    .option("-v, --verbose", "log every rotation: group, interval, events, duration", false)
    .action(async (config: string, options: { verbose: boolean }) => {
      const { runMaster } = await import("./lib/commands/master.ts");
      setExitCode(await runMaster({ config, verbose: options.verbose }));
    });

  command("read")
    .option(
      "-g, --group <GROUP>",
      "group to read (required, except with -f prometheus: all groups, and -f munin-suggest)",
    )
    .option(
      "-i, --interval <INTERVAL>",
      "interval to read (may be left out when the group has one)",
    )
    .addOption(
      new Option("--last", "the last finished interval (default)").conflicts(["current", "both"]),
    )
    .addOption(new Option("--current", "the current, unfinished interval").conflicts("both"))
    .option("--both", "both, under Last: and Current: headings")
    .addOption(
      new Option("-f, --format <FORMAT>", "output format").choices(READ_FORMATS).default("text"),
    )
    .option(
      "--state <FILE>",
      "munin formats: file remembering every event ID seen, so that Munin's fields stay stable",
    )
    .option(
      "-w, --watch [SECONDS]",
      "print again every SECONDS (default: the interval), in place on a terminal",
    )
    .action(async (config: string, options: {
      group?: string;
      interval?: string;
      current?: boolean;
      both?: boolean;
      format: ReadFormat;
      state?: string;
      watch?: string | true;
    }) => {
      const which: ReadWhich = options.both ? "both" : options.current ? "current" : "last";
      const [{ runRead }] = await Promise.all([
        import("./lib/commands/read.ts"),
        // --watch keeps reading: it keeps the reconnecting client.
        options.watch === undefined ? useRespClient() : undefined,
      ]);
      setExitCode(
        await runRead({
          config,
          group: options.group,
          interval: options.interval,
          which,
          format: options.format,
          state: options.state,
          watch: options.watch,
        }),
      );
    });

  command("log")
    .option("--stdin", "log every line of standard input: EVENT or EVENT COUNT", false)
    .action(
      async (
        config: string,
        group: string,
        event: string | undefined,
        count: string | undefined,
        options: { stdin: boolean },
      ) => {
        const [{ runLog }] = await Promise.all([
          import("./lib/commands/log.ts"),
          // --stdin may run for long: it keeps the reconnecting client.
          options.stdin ? undefined : useRespClient(),
        ]);
        setExitCode(await runLog({ config, group, event, count, stdin: options.stdin }));
      },
    );

  command("serve")
    .option("-l, --listen <HOST:PORT>", "address to listen on", "127.0.0.1:9464")
    .action(async (config: string, options: { listen: string }) => {
      const { runServe } = await import("./lib/commands/serve.ts");
      setExitCode(await runServe({ config, listen: options.listen }));
    });

  command("status")
    .addOption(
      new Option("-f, --format <FORMAT>", "output format").choices(["text", "json"]).default(
        "text",
      ),
    )
    .action(async (config: string, options: { format: "text" | "json" }) => {
      const [{ runStatus }] = await Promise.all([
        import("./lib/commands/status.ts"),
        useRespClient(),
      ]);
      setExitCode(await runStatus({ config, format: options.format }));
    });

  return program;
}

/** Run the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  // Version and help need neither the argument parser nor any command.
  if (args.length === 1 && (args[0] === "-V" || args[0] === "--version")) {
    console.log(versionText());
    return ExitCode.Ok;
  }
  if (args.length === 0 || (args.length === 1 && ["-h", "--help", "help"].includes(args[0]))) {
    const text = topLevelHelp();
    console.log(text.trimEnd());
    return args.length === 0 ? ExitCode.Usage : ExitCode.Ok;
  }
  let code: number = ExitCode.Ok;
  const { CommanderError } = await import("commander");
  try {
    const program = await buildProgram((value) => code = value);
    await program.parseAsync(args, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error is a usage error.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (isUserError(error)) {
      console.error(`ERROR: ${(error as Error).message}`);
    } else {
      console.error(`ERROR: internal error: ${(error as Error)?.stack ?? String(error)}`);
    }
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
