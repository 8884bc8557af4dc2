using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--fanout-ratio --processes N</c>: the fan-out harness run N times, each in a fresh process, one after another,
/// and each contender's paired ratio to the floor reported per process and as the median over the processes.
/// </summary>
/// <remarks>
/// One process's paired ratio moved by ±0.12 from process to process on the project VM (2026-11-29: 1.14–1.38 for the
/// same build over eight processes) while its rounds agreed with each other: tiered PGO compiles each process's hot
/// code from that process's own early profile, so rounds inside one process share its luck. Only processes average it.
/// </remarks>
public static class FanOutProcesses
{
    /// <summary>Runs <paramref name="processes"/> child harnesses with <paramref name="args"/> (minus <c>--processes</c>
    /// and <c>--out</c>) and writes <c>fanout-processes.md</c> under <paramref name="outputDirectory"/>.</summary>
    public static async Task<int> RunAsync(string[] args, int processes, string outputDirectory)
    {
        var childArgs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--processes" or "--out")
            {
                i++;
                continue;
            }

            childArgs.Add(args[i]);
        }

        var results = new List<FanOutRatio.Result>();
        for (int p = 1; p <= processes; p++)
        {
            string dir = Path.Combine(outputDirectory, $"process-{p}");
            var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                info.ArgumentList.Add(typeof(FanOutProcesses).Assembly.Location);
            }

            foreach (string a in childArgs.Append("--out").Append(dir))
            {
                info.ArgumentList.Add(a);
            }

            Console.WriteLine($"fan-out process {p} of {processes}");
            using Process child = Process.Start(info)!;
            await child.WaitForExitAsync();
            if (child.ExitCode != 0)
            {
                Console.WriteLine($"fan-out process {p} exited {child.ExitCode}");
                return child.ExitCode;
            }

            string json = await File.ReadAllTextAsync(Path.Combine(dir, "fanout-ratio.json"));
            results.Add(JsonSerializer.Deserialize<FanOutRatio.Result>(json, FanOutRatio.Json)!);
        }

        string markdown = Markdown(results);
        Directory.CreateDirectory(outputDirectory);
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "fanout-processes.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        return 0;
    }

    /// <summary>Per contender: the paired CPU ratio to the floor in each process, their median, and the allocation median.</summary>
    public static string Markdown(IReadOnlyList<FanOutRatio.Result> results)
    {
        var sb = new StringBuilder();
        FanOutRatio.Result first = results[0];
        sb.AppendLine(CultureInfo.InvariantCulture, $"{results.Count} processes × {first.Rounds} interleaved rounds of {first.Targets:N0} targets, {first.ContentBytes:N0} B contents, {first.Date} to {results[^1].Date}; rounds start with: {FanOutRatio.Describe(first.Start)}; {FanOutRatio.DescribePlacement(first.Isolated)}; {FanOutRatio.DescribeGc(first.Gen0Budget)}; {first.Placement}; a page fault cost {FanOutRatio.Median(results.Select(r => r.PageFaultUs)):0.00} µs (median over the processes' probes).");
        sb.AppendLine();
        sb.AppendLine("| Transport | Contender | × floor, paired, per process | Median over processes | Allocated B/target (median) | GC pause µs/target, contender / floor (mean) | Page faults/target, contender / floor (mean) | Gen1 MiB, contender / floor (median) |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        var verdicts = new List<string>();
        foreach (FanOutRatio.Row row in first.Rows.Where(r => !r.Name.StartsWith("floor", StringComparison.Ordinal)))
        {
            var ratios = new List<double>();
            var allocated = new List<double>();
            var paused = new List<double>();
            var floorPaused = new List<double>();
            var faults = new List<double>();
            var floorFaults = new List<double>();
            var floorAllocated = new List<double>();
            var gen1 = new List<double>();
            var floorGen1 = new List<double>();
            foreach (FanOutRatio.Result r in results)
            {
                FanOutRatio.Row? same = r.Rows.FirstOrDefault(x => x.Transport == row.Transport && x.Name == row.Name);
                FanOutRatio.Row? floor = r.Rows.FirstOrDefault(x => x.Transport == row.Transport && x.Name.StartsWith("floor", StringComparison.Ordinal));
                if (same is not null && floor is not null)
                {
                    ratios.Add(FanOutRatio.PairedRatio(same, floor));
                    allocated.Add(same.AllocatedBytesPerTarget);
                    paused.Add(same.GcPauseUsPerTarget);
                    floorPaused.Add(floor.GcPauseUsPerTarget);
                    faults.Add(same.PageFaultsPerTarget);
                    floorFaults.Add(floor.PageFaultsPerTarget);
                    floorAllocated.Add(floor.AllocatedBytesPerTarget);
                    gen1.Add(same.Gen1MiB);
                    floorGen1.Add(floor.Gen1MiB);
                }
            }

            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Transport} | {row.Name} | {string.Join(", ", ratios.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))} | **{FanOutRatio.Median(ratios):0.00}** | {FanOutRatio.Median(allocated):N0} | {Mean(paused):0.00} / {Mean(floorPaused):0.00} | {Mean(faults):0.000} / {Mean(floorFaults):0.000} | {FanOutRatio.Median(gen1):0.0} / {FanOutRatio.Median(floorGen1):0.0} |"));
            if (ratios.Count > 0 && FanOutTarget.AppliesTo(row.Name))
            {
                verdicts.Add(FanOutTarget.Verdict(row.Transport, row.Name, FanOutRatio.Median(ratios), FanOutRatio.Median(allocated), FanOutRatio.Median(floorAllocated), first.ContentBytes));
            }
        }

        if (verdicts.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Medians over the processes:");
            sb.AppendLine();
            verdicts.ForEach(v => sb.AppendLine(v));
        }

        return sb.ToString();
    }

    // Results written before the GC or page-fault columns have NaN there; they are left out rather than read as zero.
    private static double Mean(List<double> values) => values.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Average();
}
