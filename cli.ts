/**
 * The `ecl` command line: `ecl master`, `ecl read`, `ecl log`, `ecl serve`, `ecl status`. This
 * file only parses arguments and hands them to `lib/commands/`; each command is loaded when it is
 * run.
 *
 * @example Run from source
 * ```sh
 * deno run -A cli.ts read ecl.yml -g requests -i 5m
 * ```
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import { ExitCode, exitCodeFor, isUserError } from "./lib/commands/_exit.ts";
import { READ_FORMATS, type ReadFormat, type ReadWhich } from "./lib/commands/_options.ts";
import { VERSION } from "./lib/version.ts";

const CONFIG_HELP = "YAML file with the groups and the Redis connection";

function versionText(): string {
  return `ecl ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`;
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("ecl")
    .description("Event Count Logger: counts of named events per time interval, shared in Redis")
    .version(versionText(), "-V, --version", "print the version, Deno version and target")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`ERROR: ${text.replace(/^error: /, "")}`),
    });

  program.command("master")
    .description("rotate the counters at every interval boundary (run one or more per Redis)")
    .argument("<CONFIG>", CONFIG_HELP)
    .option("-v, --verbose", "log every rotation: group, interval, events, duration", false)
    .action(async (config: string, options: { verbose: boolean }) => {
      const { runMaster } = await import("./lib/commands/master.ts");
      setExitCode(await runMaster({ config, verbose: options.verbose }));
    });

  program.command("read")
    .description("print event:count lines of the last finished interval of a group")
    .argument("<CONFIG>", CONFIG_HELP)
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
    .addOption(
      new Option("--history <N>", "the last N finished periods, oldest first (layout periods)")
        .conflicts(["current", "both"]),
    )
    .action(async (config: string, options: {
      group?: string;
      interval?: string;
      current?: boolean;
      both?: boolean;
      format: ReadFormat;
      state?: string;
      watch?: string | true;
      history?: string;
    }) => {
      const which: ReadWhich = options.both ? "both" : options.current ? "current" : "last";
      const { runRead } = await import("./lib/commands/read.ts");
      setExitCode(
        await runRead({
          config,
          group: options.group,
          interval: options.interval,
          which,
          format: options.format,
          state: options.state,
          watch: options.watch,
          history: options.history,
        }),
      );
    });

  program.command("log")
    .description("log COUNT occurrences of EVENT in GROUP; exits 0 once Redis has them")
    .argument("<CONFIG>", CONFIG_HELP)
    .argument("<GROUP>", "group of the event")
    .argument("[EVENT]", "event ID (not with --stdin)")
    .argument("[COUNT]", "how many occurrences (a whole number, default 1)")
    .option("--stdin", "log every line of standard input: EVENT or EVENT COUNT", false)
    .action(
      async (
        config: string,
        group: string,
        event: string | undefined,
        count: string | undefined,
        options: { stdin: boolean },
      ) => {
        const { runLog } = await import("./lib/commands/log.ts");
        setExitCode(await runLog({ config, group, event, count, stdin: options.stdin }));
      },
    );

  program.command("serve")
    .description("serve Prometheus metrics (GET /metrics) and a health check (GET /healthz)")
    .argument("<CONFIG>", CONFIG_HELP)
    .option("-l, --listen <HOST:PORT>", "address to listen on", "127.0.0.1:9464")
    .action(async (config: string, options: { listen: string }) => {
      const { runServe } = await import("./lib/commands/serve.ts");
      setExitCode(await runServe({ config, listen: options.listen }));
    });

  program.command("status")
    .description(
      "check Redis, the master lease and the rotations; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    )
    .argument("<CONFIG>", CONFIG_HELP)
    .addOption(
      new Option("-f, --format <FORMAT>", "output format").choices(["text", "json"]).default(
        "text",
      ),
    )
    .action(async (config: string, options: { format: "text" | "json" }) => {
      const { runStatus } = await import("./lib/commands/status.ts");
      setExitCode(await runStatus({ config, format: options.format }));
    });

  return program;
}

/** Run the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = buildProgram((value) => code = value);
  try {
    if (args.length === 0) {
      program.outputHelp();
      return ExitCode.Usage;
    }
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
