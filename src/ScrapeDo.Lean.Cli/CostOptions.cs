using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using ScrapeDo.Lean.Credits;

namespace ScrapeDo.Lean.Cli;

/// <summary>The cost side of <c>scrapedo run</c>: <c>--estimate</c>, <c>--max-credits</c>, <c>--credit-table</c>, exit code 3.</summary>
internal sealed class CostOptions
{
    /// <summary>Stopped at the credit budget or because credits ran out; resumable.</summary>
    public const int ExitCreditStop = 3;

    private readonly Option<bool> _estimate = new("--estimate") { Description = "Print the targets, estimated credits, the account's credits and free async slots, and a rough duration; submit nothing." };
    private readonly Option<long?> _maxCredits = CliValidation.Long("--max-credits", "Never create a job that would take the run's estimated spend past N credits (N: 0 or more); stops there with exit 3 (resumable).", min: 0);
    private readonly Option<string?> _creditTable = new("--credit-table") { Description = "JSON file with credit prices, e.g. {\"plain\":1,\"render\":5,\"super\":10,\"superRender\":25,\"plugins\":{\"google/trends\":10}}." };

    public CreditUsage Usage { get; } = new();

    public void AddTo(Command command)
    {
        command.Add(_estimate);
        command.Add(_maxCredits);
        command.Add(_creditTable);
    }

    public bool IsEstimate(ParseResult parse) => parse.GetValue(_estimate);

    public long? MaxCredits(ParseResult parse) =>
        parse.GetValue(_maxCredits) is long max && max < 0 ? throw new CliException("--max-credits must be 0 or more.") : parse.GetValue(_maxCredits);

    /// <summary>The table from <c>--credit-table</c>, or null for the default.</summary>
    public CreditTable? Table(ParseResult parse) => parse.GetValue(_creditTable) is { } path ? LoadTable(path) : null;

    /// <summary>Reads a credit table file (shared by <c>run</c> and <c>emulator</c>); a bad file is one line naming the flag.</summary>
    public static CreditTable LoadTable(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException(Directory.Exists(path) ? $"--credit-table '{path}' is a folder; give a JSON file of credit prices." : $"--credit-table '{path}' not found.");
        }

        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--credit-table: cannot read '{path}': {CliValidation.Why(ex)}.");
        }

        try
        {
            return CreditTable.FromJson(json);
        }
        catch (FormatException ex)
        {
            throw new CliException($"--credit-table '{path}': {ex.Message}");
        }
    }

    /// <summary>Runs <c>--estimate</c>: reads the input, asks <c>/api/v1/me</c>, prints, creates nothing.</summary>
    public static async Task<int> EstimateAsync(ScrapeDoClient client, CliConsole console, string input, string? plugin, CreateJobRequest template, int targetsPerJob, long? maxCredits, CreditTable? creditTable, CancellationToken cancellationToken)
    {
        var runner = new ScrapeDoRunner(client, new RunOptions { CreditTable = creditTable, MaxJobsInFlight = 1, MaxCredits = maxCredits, MaxTargetsPerJob = targetsPerJob });
        Stream source = input == "-" ? console.OpenStdin() : new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        RunEstimate estimate;
        long rejected;
        // Streamed, as the run reads it: an estimate of a million lines holds none of them.
        var count = new LineCount();
        await using (source.ConfigureAwait(false))
        {
            if (plugin is null)
            {
                estimate = await runner.EstimateAsync(ReadLinesAsync(source, count, cancellationToken), template, cancellationToken).ConfigureAwait(false);
                rejected = count.Lines - estimate.Targets;
            }
            else
            {
                estimate = await runner.EstimatePluginAsync(plugin, ParamsOf(ReadLinesAsync(source, count, cancellationToken), count), template, cancellationToken).ConfigureAwait(false);
                rejected = count.Rejected;
            }
        }

        TextWriter o = console.Out;
        o.WriteLine(Invariant($"targets: {estimate.Targets}{(rejected > 0 ? $" ({rejected} invalid {(rejected == 1 ? "line" : "lines")} not sent)" : string.Empty)}"));
        o.WriteLine(Invariant($"estimated credits: {estimate.EstimatedCredits} ({estimate.CreditsPerTask} per task; failed tasks are not charged)"));
        o.WriteLine(Invariant($"available credits: {Known(estimate.AvailableCredits)}"));
        o.WriteLine(Invariant($"free async slots: {Known(estimate.FreeSlots)} of {Known(estimate.TotalSlots)}"));
        o.WriteLine(Invariant($"rough duration: {(estimate.RoughDuration >= TimeSpan.FromDays(1) ? estimate.RoughDuration.ToString(@"d\.hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture) + " (days.hh:mm:ss)" : estimate.RoughDuration.ToString(@"hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture))} (assumes {RunEstimate.AssumedTaskTime(template.Render is not null).TotalSeconds:0} s per task)"));
        if (estimate.TargetsWithinBudget is long within)
        {
            o.WriteLine(within == estimate.Targets
                ? Invariant($"budget: --max-credits {maxCredits} covers all {estimate.Targets} targets ({estimate.CreditsWithinBudget} credits)")
                : Invariant($"budget: --max-credits {maxCredits} covers {within} of {estimate.Targets} targets ({estimate.CreditsWithinBudget} credits, jobs of {targetsPerJob}); the run would stop there with exit 3"));
        }

        if (estimate.ExceedsAvailable)
        {
            console.Error.WriteLine("scrapedo: warning: the estimate is above the account's available credits; use --max-credits to stop in time.");
        }

        return ExitCodes.Success;
    }

    /// <summary>Prints the credit lines of the summary; returns exit code 3 when the run stopped for credits, else null.</summary>
    public int? Report(CliConsole console, bool quiet, bool resumable, long? maxCredits, bool emulated = false)
    {
        CreditUsage u = Usage;
        ReportSpent(console, quiet);
        if (!u.Stopped)
        {
            return null;
        }

        // The budget that sends every remaining target: what was spent plus their estimate (whole jobs fit exactly).
        long needed = u.EstimatedSpent + u.EstimatedToFinish;
        string how = resumable
            ? u.StopReason == CreditStop.Budget ? Invariant($"the same command with --resume and --max-credits {needed} or more continues.") : "add credits, then the same command with --resume continues."
            : emulated ? RunCommand.EmulatorNotResumable
            : "add --journal and --output FILE to make such a run resumable.";
        string why = u.StopReason == CreditStop.Budget
            ? Invariant($"stopped at the credit budget (--max-credits {maxCredits})")
            : "stopped: the account's credits ran out";
        console.Error.WriteLine(Invariant($"scrapedo: {why}; {CliValidation.Count(u.TargetsRemaining, "target")} {(u.TargetsRemaining == 1 ? "remains" : "remain")} (about {CliValidation.Count(u.EstimatedToFinish, "credit")} more); {how}"));
        return ExitCreditStop;
    }

    /// <summary>The summary's credits line (also after an interrupt: the jobs created so far were paid for).</summary>
    public void ReportSpent(CliConsole console, bool quiet)
    {
        if (quiet)
        {
            return;
        }

        CreditUsage u = Usage;
        // After a resume the estimate covers the whole run (the journal's jobs too) while the tasks' reports and the
        // account's figures are this process's alone, so the line says which figure counts what.
        bool resumed = u.EstimatedSpentBeforeResume > 0;
        string estimated = resumed
            ? Invariant($"{u.EstimatedSpent} estimated spent over the whole run ({u.EstimatedSpentBeforeResume} before this resume, {u.EstimatedSpent - u.EstimatedSpentBeforeResume} since)")
            : Invariant($"{u.EstimatedSpent} estimated spent");
        string actual = u.ActualSpent is not long a ? string.Empty
            : resumed ? Invariant($", {a} reported by the tasks delivered since")
            : Invariant($", {a} reported by tasks");
        string when = resumed ? " this resume" : string.Empty;
        // Left out when the run has no figure after (an interrupted run does not ask the account again).
        string account = u.AccountCreditsBefore is not long before ? string.Empty
            : u.AccountCreditsAfter is long after ? Invariant($"; account {before} before{when}, {after} after")
            : Invariant($"; account {before} before{when}");
        console.Error.WriteLine(Invariant($"scrapedo: credits: {estimated}{actual}{account}."));
    }

    private static string Known(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "unknown";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class LineCount
    {
        public long Lines;
        public long Rejected;
    }

    private static async IAsyncEnumerable<string> ReadLinesAsync(Stream source, LineCount count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        BoundedLineReader reader = BoundedLineReader.Open(source);
        int number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } raw)
        {
            // Binary input is refused as the run refuses it, instead of being counted as targets (or read forever).
            RunCommand.ThrowIfNotText(raw, ++number);
            string text = raw.Trim();
            if (text.Length > 0 && text[0] != '#')
            {
                count.Lines++;
                yield return text;
            }
        }
    }

    private static async IAsyncEnumerable<PluginParams> ParamsOf(IAsyncEnumerable<string> lines, LineCount count)
    {
        await foreach (string line in lines.ConfigureAwait(false))
        {
            PluginParams parameters;
            try
            {
                parameters = PluginParams.FromJson(line);
            }
            catch (ArgumentException)
            {
                count.Rejected++;
                continue;
            }

            yield return parameters;
        }
    }
}
