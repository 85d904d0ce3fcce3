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
import { ExitCode, exitCodeFor, isUserError } from "./lib/commands/_exit.ts";
import { READ_FORMATS, type ReadFormat, type ReadWhich } from "./lib/commands/_options.ts";
import { VERSION } from "./lib/version.ts";

const CONFIG = ["<CONFIG>", "YAML file with the groups and the Redis connection"] as const;
const DESCRIPTION = "Event Count Logger: counts of named events per time interval, shared in Redis";
const VERSION_FLAGS = "-V, --version";
const VERSION_HELP = "print the version, Deno version and target";
const HELP_FLAGS = "-h, --help";
const HELP_HELP = "display help for command";

/** An option of a command. */
interface OptionSpec {
  /** In commander's notation: `-g, --group <GROUP>` (value), `-w, --watch [SECONDS]` (optional). */
  readonly flags: string;
  readonly description: string;
  readonly choices?: readonly string[];
  readonly default?: string | boolean;
  /** Attribute names of the options it cannot be used with. */
  readonly conflicts?: readonly string[];
}

/** Option values by attribute name (`--group` → `group`), as commander gives them. */
type OptionValues = Record<string, string | boolean | undefined>;

/** A command: its arguments, options, and what runs it. */
interface CommandSpec {
  readonly description: string;
  /** `<NAME>` (required) or `[NAME]` (optional), with its description. */
  readonly args: readonly (readonly [string, string])[];
  readonly options: readonly OptionSpec[];
  /** Run the command with its arguments (`undefined` when an optional one is left out). */
  readonly run: (args: (string | undefined)[], options: OptionValues) => Promise<number>;
}

/**
 * The commands, declared once: commander (loaded only for help and errors) is built from this
 * table, and so are the top-level help and the quick parser of well-formed command lines.
 */
const COMMANDS: Record<string, CommandSpec> = {
  master: {
    description: "rotate the counters at every interval boundary (run one or more per Redis)",
    args: [CONFIG],
    options: [{
      flags: "-v, --verbose",
      description: "log every rotation: group, interval, events, duration",
      default: false,
    }],
    run: async ([config], options) => {
      const { runMaster } = await import("./lib/commands/master.ts");
      return await runMaster({ config: config!, verbose: options.verbose === true });
    },
  },
  read: {
    description: "print event:count lines of the last finished interval of a group",
    args: [CONFIG],
    options: [
      {
        flags: "-g, --group <GROUP>",
        description:
          "group to read (required, except with -f prometheus: all groups, and -f munin-suggest)",
      },
      {
        flags: "-i, --interval <INTERVAL>",
        description: "interval to read (may be left out when the group has one)",
      },
      {
        flags: "--last",
        description: "the last finished interval (default)",
        conflicts: ["current", "both"],
      },
      { flags: "--current", description: "the current, unfinished interval", conflicts: ["both"] },
      { flags: "--both", description: "both, under Last: and Current: headings" },
      {
        flags: "-f, --format <FORMAT>",
        description: "output format",
        choices: READ_FORMATS,
        default: "text",
      },
      {
        flags: "--state <FILE>",
        description:
          "munin formats: file remembering every event ID seen, so that Munin's fields stay stable",
      },
      {
        flags: "-w, --watch [SECONDS]",
        description: "print again every SECONDS (default: the interval), in place on a terminal",
      },
      {
        flags: "--history <N>",
        description: "the last N finished periods, oldest first (layout periods)",
        conflicts: ["current", "both"],
      },
    ],
    run: async ([config], options) => {
      const which: ReadWhich = options.both ? "both" : options.current ? "current" : "last";
      const watch = options.watch as string | true | undefined;
      const { runRead } = await import("./lib/commands/read.ts");
      return await runRead({
        config: config!,
        group: options.group as string | undefined,
        interval: options.interval as string | undefined,
        which,
        format: options.format as ReadFormat,
        state: options.state as string | undefined,
        watch,
        history: options.history as string | undefined,
      });
    },
  },
  log: {
    description: "log COUNT occurrences of EVENT in GROUP; exits 0 once Redis has them",
    args: [
      CONFIG,
      ["<GROUP>", "group of the event"],
      ["[EVENT]", "event ID (not with --stdin)"],
      ["[COUNT]", "how many occurrences (a whole number, default 1)"],
    ],
    options: [{
      flags: "--stdin",
      description: "log every line of standard input: EVENT or EVENT COUNT",
      default: false,
    }],
    run: async ([config, group, event, count], options) => {
      const stdin = options.stdin === true;
      const { runLog } = await import("./lib/commands/log.ts");
      return await runLog({ config: config!, group: group!, event, count, stdin });
    },
  },
  serve: {
    description: "serve Prometheus metrics (GET /metrics) and a health check (GET /healthz)",
    args: [CONFIG],
    options: [{
      flags: "-l, --listen <HOST:PORT>",
      description: "address to listen on",
      default: "127.0.0.1:9464",
    }],
    run: async ([config], options) => {
      const { runServe } = await import("./lib/commands/serve.ts");
      return await runServe({ config: config!, listen: options.listen as string });
    },
  },
  status: {
    description:
      "check Redis, the master lease and the rotations; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    args: [CONFIG],
    options: [{
      flags: "-f, --format <FORMAT>",
      description: "output format",
      choices: ["text", "json"],
      default: "text",
    }],
    run: async ([config], options) => {
      const { runStatus } = await import("./lib/commands/status.ts");
      return await runStatus({ config: config!, format: options.format as "text" | "json" });
    },
  },
};

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

/** The parts of an option's flags: `-g, --group <GROUP>` → `-g`, `--group`, `group`, value. */
function flagsOf(option: OptionSpec) {
  const match = /^(?:(-\w), )?--([\w-]+)(?: ([<[])[^>\]]*[>\]])?$/.exec(option.flags);
  if (match === null) throw new Error(`Bad option flags: ${option.flags}`);
  const [, short, long, value] = match;
  return {
    short,
    long: `--${long}`,
    name: long.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()),
    value: value === "<" ? "required" : value === "[" ? "optional" : "none",
  } as const;
}

/** A parsed command line: the command, its arguments and its option values. */
export interface CommandLine {
  readonly name: string;
  readonly args: (string | undefined)[];
  readonly options: OptionValues;
}

/**
 * Parse a plain, well-formed command line (a command, its arguments, options as `-g X`,
 * `--group X`, `--group=X`, flags) the way commander would, without loading it. Anything else —
 * help, errors, combined short flags, optional option values, `--` — returns `undefined`, for
 * commander to handle and word.
 */
export function quickParse(argv: readonly string[]): CommandLine | undefined {
  const name = argv[0];
  if (!Object.hasOwn(COMMANDS, name)) return undefined;
  const command = COMMANDS[name];
  argv = argv.slice(1);
  const specs = command.options.map((option) => ({ option, ...flagsOf(option) }));
  const options: OptionValues = {};
  for (const spec of specs) {
    if (spec.option.default !== undefined) options[spec.name] = spec.option.default;
  }
  const given = new Set<string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith("-") || word === "-") {
      args.push(word);
      continue;
    }
    const [flag, inline] = word.startsWith("--") ? word.split(/=(.*)/s, 2) : [word, undefined];
    const spec = specs.find((spec) => spec.short === flag || spec.long === flag);
    if (spec === undefined || spec.value === "optional") return undefined;
    if (spec.value === "none") {
      if (inline !== undefined) return undefined;
      options[spec.name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith("-"))) return undefined;
      if (spec.option.choices !== undefined && !spec.option.choices.includes(value)) {
        return undefined;
      }
      options[spec.name] = value;
    }
    given.add(spec.name);
  }
  for (const spec of specs) {
    if (given.has(spec.name) && spec.option.conflicts?.some((name) => given.has(name))) {
      return undefined;
    }
  }
  const required = command.args.filter(([name]) => name.startsWith("<")).length;
  if (args.length < required || args.length > command.args.length) return undefined;
  return { name, args: command.args.map((_, index) => args[index]), options };
}

/**
 * The argument parser, built from {@link COMMANDS}: loaded only for help, usage errors and unusual
 * command lines. `onCommand` gets each parsed command line.
 */
async function buildProgram(onCommand: (line: CommandLine) => Promise<void>) {
  const commander = await import("commander");
  const program = new commander.Command("ecl")
    .description(DESCRIPTION)
    .version(versionText(), VERSION_FLAGS, VERSION_HELP)
    .helpOption(HELP_FLAGS, HELP_HELP)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`ERROR: ${text.replace(/^error: /, "")}`),
    });
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const command = program.command(name).description(spec.description);
    for (const [arg, description] of spec.args) command.argument(arg, description);
    for (const option of spec.options) {
      const added = new commander.Option(option.flags, option.description);
      if (option.choices !== undefined) added.choices(option.choices);
      if (option.default !== undefined) added.default(option.default);
      if (option.conflicts !== undefined) added.conflicts([...option.conflicts]);
      command.addOption(added);
    }
    command.action(async (...values: unknown[]) => {
      const args = values.slice(0, spec.args.length) as (string | undefined)[];
      await onCommand({ name, args, options: values[spec.args.length] as OptionValues });
    });
  }
  return { program, CommanderError: commander.CommanderError };
}

/** commander's `ecl --help` (the reference for {@link topLevelHelp}). */
export async function commanderHelp(): Promise<string> {
  const { program } = await buildProgram(() => Promise.resolve());
  return program.helpInformation();
}

/** Parse `argv` with commander (the reference for {@link quickParse}); throws on a usage error. */
export async function commanderParse(argv: readonly string[]): Promise<CommandLine | undefined> {
  let parsed: CommandLine | undefined;
  const { program } = await buildProgram((line) => {
    parsed = line;
    return Promise.resolve();
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(argv, { from: "user" });
  return parsed;
}

/** Run the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  // Version and help need neither the argument parser nor any command.
  if (args.length === 1 && (args[0] === "-V" || args[0] === "--version")) {
    console.log(versionText());
    return ExitCode.Ok;
  }
  if (args.length === 0 || (args.length === 1 && ["-h", "--help", "help"].includes(args[0]))) {
    console.log(topLevelHelp().trimEnd());
    return args.length === 0 ? ExitCode.Usage : ExitCode.Ok;
  }
  let code: number = ExitCode.Ok;
  let commanderError: (new (...args: never[]) => Error) | undefined;
  try {
    const line = quickParse(args);
    if (line !== undefined) return await COMMANDS[line.name].run(line.args, line.options);
    const { program, CommanderError } = await buildProgram(async (line) => {
      code = await COMMANDS[line.name].run(line.args, line.options);
    });
    commanderError = CommanderError;
    await program.parseAsync(args, { from: "user" });
    return code;
  } catch (error) {
    if (commanderError !== undefined && error instanceof commanderError) {
      // Help and version exit 0; every parse error is a usage error.
      return (error as Error & { exitCode: number }).exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
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
