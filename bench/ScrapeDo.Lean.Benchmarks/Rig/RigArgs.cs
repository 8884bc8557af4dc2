namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// The options each of the rig's own modes reads. A misspelled option or one left without its value would otherwise
/// be ignored and the run would measure with a default the caller did not ask for, which is found only after minutes
/// of measuring, if at all; so such a command line is refused before anything starts. BenchmarkDotNet's own modes
/// (<c>--suite</c>, <c>--ci</c>, anything else) check their arguments themselves.
/// </summary>
internal static class RigArgs
{
    private static readonly (string Mode, string[] Flags, string[] Values)[] Modes =
    [
        ("--fanout-ratio", ["--isolated"],
            ["--targets", "--rounds", "--content-bytes", "--transports", "--cli", "--out", "--warmups", "--only", "--runner-app", "--round-start", "--max-warmups", "--gen0-budget-mib", "--processes"]),
        ("--percall-ratio", ["--no-control"], ["--rounds", "--batch-ms", "--filter", "--suites", "--margin-pct", "--peers", "--out", "--only"]),
        ("--gc-trace", [], ["--contenders", "--transport", "--targets", "--warmups", "--rounds", "--gen0-budget-mib"]),
        ("--fanout-report", ["--no-naive"], ["--targets", "--content-bytes", "--external"]),
        ("--throughput", [], []),
    ];

    private static readonly string[] Counts = ["--targets", "--rounds", "--content-bytes", "--warmups", "--max-warmups", "--gen0-budget-mib", "--processes", "--batch-ms", "--margin-pct"];

    /// <summary>What is wrong with <paramref name="args"/> for the rig mode it names, or null (also for any other mode).</summary>
    public static string? Problem(string[] args)
    {
        foreach ((string mode, string[] flags, string[] values) in Modes)
        {
            if (!args.Contains(mode))
            {
                continue;
            }

            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                if (arg == mode || flags.Contains(arg))
                {
                    continue;
                }

                if (values.Contains(arg))
                {
                    if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        return $"{arg} needs a value.";
                    }

                    // The counts are read later, once the run is placed on its cores; a value that is no count is refused now.
                    if (Counts.Contains(arg) && !uint.TryParse(args[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                    {
                        return $"{arg} takes a whole number, not '{args[i + 1]}'.";
                    }

                    i++;
                    continue;
                }

                string[] known = [.. flags.Concat(values).Order(StringComparer.Ordinal)];
                return known.Length == 0 ? $"{mode} takes no options, not '{arg}'." : $"{mode} does not take '{arg}'. It takes {string.Join(", ", known)}.";
            }

            return null;
        }

        return null;
    }
}
