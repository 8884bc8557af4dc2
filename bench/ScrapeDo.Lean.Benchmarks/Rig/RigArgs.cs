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
            ["--targets", "--rounds", "--content-bytes", "--transports", "--cli", "--out", "--warmups", "--only", "--runner-app", "--round-start", "--max-warmups", "--gen0-budget-mib", "--processes", "--tier-up-runs"]),
        ("--percall-ratio", ["--no-control"], ["--rounds", "--batch-ms", "--filter", "--suites", "--margin-pct", "--peers", "--out", "--only"]),
        ("--gc-trace", [], ["--contenders", "--transport", "--targets", "--warmups", "--rounds", "--gen0-budget-mib"]),
        ("--fanout-report", ["--no-naive"], ["--targets", "--content-bytes", "--external"]),
        ("--throughput", [], []),
    ];

    // The modes Program.cs dispatches that this type does not check (BenchmarkDotNet's or the rig's own plumbing).
    private static readonly string[] OtherModes = ["--serve", "--report", "--suite", "--ci", "--fanout-worker"];

    private static readonly string[] Counts = ["--targets", "--rounds", "--content-bytes", "--warmups", "--max-warmups", "--tier-up-runs", "--gen0-budget-mib", "--processes", "--batch-ms", "--margin-pct"];

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

        // No rig mode named: the arguments go to BenchmarkDotNet, which answers an unknown option with its help and
        // exit code 0, so a misspelled mode would pass in a script. One close to a mode's name is refused here; the short
        // names are left out, as BenchmarkDotNet's own options come that close to them (--cli to --ci).
        string[] names = [.. Modes.Select(m => m.Mode), .. OtherModes];
        foreach (string arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal) && !names.Contains(arg)
                && names.FirstOrDefault(name => name.Length >= 8 && Distance(arg, name) <= 2) is { } meant)
            {
                return $"'{arg}' is not a mode of the rig; did you mean {meant}?";
            }
        }

        return null;
    }

    /// <summary>The edit distance of two short strings (insertions, deletions, substitutions and swaps of neighbours).</summary>
    internal static int Distance(string a, string b)
    {
        int[,] d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
