using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Credits;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>Issue 16 against the emulator over loopback: estimate = spend, the budget, resume past it, out of credits.</summary>
public sealed partial class CreditTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-credits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);


    private static Task<CliResult> RunCliAsync(params string[] args) => CliHarness.RunAsync(args);

    private static Task<ScrapeDoEmulator> EmulatorWith(long credits) =>
        ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "business", credits)], ContentBytes = 100 });

    private static string[] Connect(ScrapeDoEmulator emulator) => ["--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];

    private string Input(int count)
    {
        string path = Path.Combine(_dir, "urls.txt");
        File.WriteAllLines(path, Support.Urls(count));
        return path;
    }

    private static async Task<long> BalanceAsync(ScrapeDoEmulator emulator)
    {
        using ScrapeDoClient client = Support.Client(emulator);
        return (await client.GetAccountAsync(Support.Timeout())).AvailableCredits;
    }

    private static List<string> Targets(string output) =>
        File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()!).ToList();

    [GeneratedRegex(@"^estimated credits: (\d+)", RegexOptions.Multiline)]
    private static partial Regex EstimatedLine();

    [Fact]
    public async Task Estimate_submits_nothing_and_equals_what_the_full_run_then_spends()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        string input = Path.Combine(_dir, "urls.txt");
        File.WriteAllLines(input, [.. Support.Urls(12), "not a url"]);

        CliResult estimate = await RunCliAsync(["run", input, "--render", "--estimate", .. Connect(emulator)]);
        Assert.Equal(0, estimate.ExitCode);
        Assert.Equal(0, emulator.Counters.Creates);
        Assert.True(estimate.Out.Contains("targets: 12", StringComparison.Ordinal), estimate.Out);
        Assert.True(estimate.Out.Contains("available credits: 1000", StringComparison.Ordinal), estimate.Out);
        Assert.True(estimate.Out.Contains("free async slots: 12 of 12", StringComparison.Ordinal), estimate.Out);
        Assert.True(estimate.Out.Contains("rough duration: ", StringComparison.Ordinal), estimate.Out);
        long estimated = long.Parse(EstimatedLine().Match(estimate.Out).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(12 * CreditTable.Default.Render, estimated);

        string output = Path.Combine(_dir, "out.jsonl");
        CliResult run = await RunCliAsync(["run", input, "--render", "-o", output, "--targets-per-job", "5", .. Connect(emulator)]);
        Assert.Equal(2, run.ExitCode); // the invalid line is a failed record
        Assert.Equal(1_000 - estimated, await BalanceAsync(emulator));
        Assert.True(run.Error.Contains($"credits: {estimated} estimated spent, {estimated} reported by tasks; account 1000 before, {1_000 - estimated} after.", StringComparison.Ordinal), run.Error);
    }

    [Fact]
    public async Task Estimate_with_resume_says_it_prices_the_whole_input_and_how_much_the_journal_delivered()
    {
        // Found by a new-user walkthrough (session 21): on a finished run, --estimate --resume printed the fresh run's
        // figures as if they were what the resume would cost.
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        string input = Path.Combine(_dir, "urls.txt");
        File.WriteAllLines(input, Support.Urls(3));
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        Assert.Equal(0, (await RunCliAsync(["run", input, "-o", output, "--journal", journal, "-q", .. Connect(emulator)])).ExitCode);

        CliResult estimate = await RunCliAsync(["run", input, "-o", output, "--journal", journal, "--resume", "--estimate", .. Connect(emulator)]);

        Assert.Equal(0, estimate.ExitCode);
        Assert.Contains($"--estimate prices the whole input, not what the resume has left: --journal '{journal}' records 3 targets already delivered", estimate.Error);
        Assert.True(estimate.Out.Contains("targets: 3", StringComparison.Ordinal), estimate.Out);
        Assert.Equal(1, emulator.Counters.Creates);
    }

    [Fact]
    public async Task Plugin_estimate_prices_by_the_plugin_names_bad_lines_and_equals_the_spend()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        string input = Path.Combine(_dir, "trends.jsonl");
        File.WriteAllLines(input, ["{\"q\":\"coffee\"}", "{broken", "{\"q\":\"tea\"}", "# a comment", "{\"q\":\"cocoa\"}"]);

        CliResult estimate = await RunCliAsync(["run", input, "--plugin", "google/trends", "--estimate", .. Connect(emulator)]);
        Assert.Equal(0, estimate.ExitCode);
        Assert.True(estimate.Out.Contains("targets: 3 (1 invalid line not sent)", StringComparison.Ordinal), estimate.Out);
        Assert.True(estimate.Out.Contains("estimated credits: 30 (10 per task", StringComparison.Ordinal), estimate.Out);
        Assert.Equal(0, emulator.Counters.Creates);

        CliResult run = await RunCliAsync(["run", input, "--plugin", "google/trends", "-o", Path.Combine(_dir, "out.jsonl"), .. Connect(emulator)]);
        Assert.Equal(2, run.ExitCode); // the broken line is a failed record
        Assert.Equal(1_000 - 30, await BalanceAsync(emulator));
    }

    [Fact]
    public async Task Max_credits_stops_under_the_budget_with_exit_3_and_resume_with_a_larger_budget_finishes_once_per_target()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        string input = Input(10);
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] common = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "2", .. Connect(emulator)];

        CliResult estimate = await RunCliAsync(["run", input, "--estimate", "--targets-per-job", "2", "--max-credits", "5", .. Connect(emulator)]);
        Assert.Equal(0, estimate.ExitCode);
        Assert.True(estimate.Out.Contains("budget: --max-credits 5 covers 4 of 10 targets (4 credits, jobs of 2); the run would stop there with exit 3", StringComparison.Ordinal), estimate.Out);
        Assert.Equal(0, emulator.Counters.Creates);

        CliResult first = await RunCliAsync([.. common, "--max-credits", "5"]);
        Assert.Equal(CostOptions.ExitCreditStop, first.ExitCode);
        Assert.True(first.Error.Contains("stopped at the credit budget (--max-credits 5); 6 targets remain (about 6 credits more); the same command with --resume and --max-credits 10 or more continues.", StringComparison.Ordinal), first.Error);
        long spent = 1_000 - await BalanceAsync(emulator);
        Assert.True(spent <= 5, $"spent {spent}");
        Assert.Equal(4, spent);
        Assert.Equal(2, emulator.Counters.Jobs);
        Assert.Equal(4, Targets(output).Count);

        // The same budget again creates nothing: the journal's spend counts.
        CliResult same = await RunCliAsync([.. common, "--resume", "--max-credits", "5"]);
        Assert.True(same.ExitCode == CostOptions.ExitCreditStop, same.Error);
        Assert.Equal(2, emulator.Counters.Jobs);

        CliResult enough = await RunCliAsync(["run", input, "--estimate", "--targets-per-job", "2", "--max-credits", "10", .. Connect(emulator)]);
        Assert.True(enough.Out.Contains("budget: --max-credits 10 covers all 10 targets (10 credits)", StringComparison.Ordinal), enough.Out);

        // Exactly the budget the stop line suggested is enough.
        CliResult resumed = await RunCliAsync([.. common, "--resume", "--max-credits", "10"]);
        Assert.Equal(0, resumed.ExitCode);
        // The estimate spans the whole run; the tasks' reports and the account's figures are this resume's own.
        Assert.True(resumed.Error.Contains("credits: 10 estimated spent over the whole run (4 before this resume, 6 since), 6 reported by the tasks delivered since; account 996 before this resume, 990 after.", StringComparison.Ordinal), resumed.Error);
        List<string> targets = Targets(output);
        Assert.Equal(Support.Urls(10).Order(StringComparer.Ordinal), targets.Order(StringComparer.Ordinal));
        Assert.Equal(5, emulator.Counters.Jobs); // 10 targets in jobs of 2: none created twice
        Assert.Equal(10, 1_000 - await BalanceAsync(emulator));
    }

    [Fact]
    public async Task A_budget_that_stops_the_run_before_its_first_job_is_not_reported_as_an_empty_input()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        CliResult run = await RunCliAsync(["run", Input(3), "--max-credits", "0", .. Connect(emulator)]);
        Assert.Equal(CostOptions.ExitCreditStop, run.ExitCode);
        Assert.Equal(0, emulator.Counters.Creates);
        Assert.True(run.Error.Contains("stopped at the credit budget (--max-credits 0); 3 targets remain", StringComparison.Ordinal), run.Error);
        Assert.False(run.Error.Contains("holds no targets", StringComparison.Ordinal), run.Error);
        Assert.False(run.Error.Contains("no target was sent", StringComparison.Ordinal), run.Error);
    }

    [Fact]
    public async Task Running_out_of_credits_mid_run_ends_resumable_after_few_create_attempts()
    {
        // 7 credits pay for three jobs of two plain targets; the fourth create is refused.
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 7);
        string input = Input(10);
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        CliResult run = await RunCliAsync(["run", input, "-o", output, "--journal", journal, "--targets-per-job", "2", "--max-in-flight-jobs", "1", .. Connect(emulator)]);

        Assert.Equal(CostOptions.ExitCreditStop, run.ExitCode);
        Assert.True(run.Error.Contains("the account's credits ran out; 4 targets remain (about 4 credits more); add credits, then the same command with --resume continues.", StringComparison.Ordinal), run.Error);
        Assert.Equal(3, emulator.Counters.Jobs);
        Assert.Equal(6, Targets(output).Count);
        long attemptsAfterFirstRefusal = emulator.Counters.Creates - emulator.Counters.Jobs - 1;
        // The refusal names credits, so it is final: not retried by the client, not by the runner (one create, no storm).
        Assert.Equal(0, attemptsAfterFirstRefusal);
        Assert.Equal(1, await BalanceAsync(emulator));

        // Resumable: the refused chunk is not journaled as sent, so a resume (still out of credits) sends it once more and stops again.
        CliResult again = await RunCliAsync(["run", input, "-o", output, "--journal", journal, "--targets-per-job", "2", "--max-in-flight-jobs", "1", "--resume", .. Connect(emulator)]);
        Assert.Equal(CostOptions.ExitCreditStop, again.ExitCode);
        Assert.Equal(3, emulator.Counters.Jobs);
        Assert.Equal(6, Targets(output).Count);
    }

    [Fact]
    public async Task Out_of_credits_with_several_jobs_in_flight_takes_no_more_creates_than_were_already_under_way()
    {
        // 7 credits, jobs of two plain targets, four jobs in flight: at most three jobs are paid for.
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 7);
        string input = Input(40);
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        CliResult run = await RunCliAsync(["run", input, "-o", output, "--journal", journal, "--targets-per-job", "2", "--max-in-flight-jobs", "4", .. Connect(emulator)]);

        Assert.Equal(CostOptions.ExitCreditStop, run.ExitCode);
        long jobs = emulator.Counters.Jobs;
        Assert.InRange(jobs, 1, 3);
        long refused = emulator.Counters.Creates - jobs;
        // The first refusal plus at most the creates already on the wire beside it (three other jobs in flight),
        // not one per remaining chunk (19) and not a retry loop.
        Assert.InRange(refused, 1, 4);
        List<string> written = Targets(output);
        Assert.Equal(jobs * 2, written.Count);
        Assert.Equal(written.Count, written.Distinct(StringComparer.Ordinal).Count());
        Assert.True(run.Error.Contains($"the account's credits ran out; {40 - written.Count} targets remain", StringComparison.Ordinal), run.Error);
        Assert.Equal(7 - (jobs * 2), await BalanceAsync(emulator));
    }

    [Fact]
    public async Task Credit_table_file_prices_the_estimate_and_the_budget_and_a_bad_one_is_one_line_exit_1()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        string input = Input(6);
        string table = Path.Combine(_dir, "prices.json");
        File.WriteAllText(table, """{ "plain": 3 }""");

        CliResult estimate = await RunCliAsync(["run", input, "--estimate", "--credit-table", table, .. Connect(emulator)]);
        Assert.Equal(0, estimate.ExitCode);
        Assert.True(estimate.Out.Contains("estimated credits: 18 (3 per task", StringComparison.Ordinal), estimate.Out);

        // Jobs of 2 at 3 each cost 6: a budget of 7 allows one job.
        string output = Path.Combine(_dir, "out.jsonl");
        CliResult run = await RunCliAsync(["run", input, "-o", output, "--targets-per-job", "2", "--credit-table", table, "--max-credits", "7", .. Connect(emulator)]);
        Assert.Equal(CostOptions.ExitCreditStop, run.ExitCode);
        Assert.Equal(1, emulator.Counters.Jobs);
        Assert.True(run.Error.Contains("credits: 6 estimated spent, 2 reported by tasks", StringComparison.Ordinal), run.Error);

        File.WriteAllText(table, """{ "plain": "x" }""");
        CliResult bad = await RunCliAsync(["run", input, "--estimate", "--credit-table", table, .. Connect(emulator)]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Single(bad.Error.Trim().Split('\n'));
        Assert.Contains("--credit-table", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Library_run_reports_budget_stop_and_spend_in_progress()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        using ScrapeDoClient client = Support.Client(emulator);
        var usage = new CreditUsage();
        RunProgress last = default;
        var runner = new ScrapeDoRunner(client, new RunOptions
        {
            MaxTargetsPerJob = 3,
            MaxCredits = 60,
            Credits = usage,
            CreditTable = new CreditTable { Super = 7 },
            Progress = new SyncProgress(p => last = p),
        });

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(Support.Urls(10), new CreateJobRequest { Super = true }, Support.Timeout()))
        {
            outcomes.Add(o);
        }

        // 3 jobs of 3 super targets at 7 = 63 > 60, so two jobs (42) and 4 targets remain.
        Assert.Equal(CreditStop.Budget, usage.StopReason);
        Assert.Equal(42, usage.EstimatedSpent);
        Assert.Equal(4, usage.TargetsRemaining);
        Assert.Equal(28, usage.EstimatedToFinish);
        Assert.Equal(6, outcomes.Count);
        Assert.Equal(42, last.EstimatedCreditsSpent);
        // The emulator bills by the default table (10 per super task): the reported spend says so.
        Assert.Equal(60, usage.ActualSpent);
        Assert.Equal(1_000, usage.AccountCreditsBefore);
        Assert.Equal(940, usage.AccountCreditsAfter);
    }

    [Fact]
    public async Task A_credit_report_describes_one_run_so_a_budget_stop_does_not_stop_the_next_run_and_overlapping_runs_cannot_share_it()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 1_000);
        using ScrapeDoClient client = Support.Client(emulator);
        var usage = new CreditUsage();
        // One options object for every run, as a host registers it once.
        var runner = new ScrapeDoRunner(client, new RunOptions { MaxTargetsPerJob = 2, MaxCredits = 2, Credits = usage });

        var first = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(Support.Urls(3), cancellationToken: Support.Timeout()))
        {
            first.Add(o);
        }

        Assert.Equal(2, first.Count);
        Assert.Equal(CreditStop.Budget, usage.StopReason);
        Assert.Equal(1, usage.TargetsRemaining);

        var second = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(Support.Urls(1), cancellationToken: Support.Timeout()))
        {
            second.Add(o);
        }

        Assert.Single(second);
        Assert.Equal(OutcomeStatus.Success, second[0].Status);
        Assert.Equal(CreditStop.None, usage.StopReason);
        Assert.Equal(0, usage.TargetsRemaining);
        Assert.Equal(1, usage.EstimatedSpent);
        Assert.Equal(1, usage.ActualSpent);

        // A run that starts while another still fills the report is refused, and the running one is unharmed.
        await using IAsyncEnumerator<TaskOutcome> running = runner.RunAsync(Support.Urls(2), cancellationToken: Support.Timeout()).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());
        InvalidOperationException overlap = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (TaskOutcome o in runner.RunAsync(Support.Urls(1), cancellationToken: Support.Timeout()))
            {
            }
        });
        Assert.Contains("RunOptions.Credits", overlap.Message, StringComparison.Ordinal);
        Assert.True(await running.MoveNextAsync());
        Assert.False(await running.MoveNextAsync());
        Assert.Equal(2, usage.EstimatedSpent);
        Assert.Equal(CreditStop.None, usage.StopReason);
    }

    [Fact]
    public async Task Emulator_charges_by_the_tables_status_rule_and_reports_the_cost_per_task()
    {
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 100);
        using ScrapeDoClient client = Support.Client(emulator);
        var usage = new CreditUsage();
        var runner = new ScrapeDoRunner(client, new RunOptions { Credits = usage });
        string[] targets =
        [
            "https://a.example/ok",                              // success 200: charged
            "https://a.example/gone?emulate=error&emulate-status=404", // error, but a 404 is a successful result: charged
            "https://a.example/bad?emulate=error",               // error 502: free
            "https://a.example/broken?emulate-status=500",       // finished, target 500: free
        ];

        var costs = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (TaskOutcome o in runner.RunAsync(targets, new CreateJobRequest { Super = true }, Support.Timeout()))
        {
            costs[o.Target] = o.Details!.ScrapeDoMetadata!["Scrape.do-Request-Cost"];
        }

        Assert.Equal("10", costs[targets[0]]);
        Assert.Equal("10", costs[targets[1]]);
        Assert.Equal("0", costs[targets[2]]);
        Assert.Equal("0", costs[targets[3]]);
        Assert.Equal(80, await BalanceAsync(emulator));
        Assert.Equal(20, usage.ActualSpent);
        Assert.Equal(40, usage.EstimatedSpent); // the estimate assumes every task is charged: an upper bound
    }

    [Fact]
    public async Task Concurrent_creates_cannot_spend_the_same_credits_twice()
    {
        // 2,000 credits pay for two jobs of 1,000 plain targets (large jobs widen any gap between check and
        // registration); 12 creates race for them.
        await using ScrapeDoEmulator emulator = await EmulatorWith(credits: 2_000);
        using ScrapeDoClient client = Support.Client(emulator);
        CancellationToken ct = Support.Timeout();
        Task<CreateJobResponse>[] creates = [.. Enumerable.Range(0, 12).Select(i => Task.Run(() => client.CreateJobAsync(new CreateJobRequest { Targets = Support.Urls(1_000, $"https://race.example/{i}") }, ct)))];
        int accepted = 0, refused = 0;
        foreach (Task<CreateJobResponse> create in creates)
        {
            try
            {
                await create;
                accepted++;
            }
            catch (ScrapeDoApiException ex) when ((int)ex.StatusCode == 429)
            {
                Assert.Contains("credits", ex.Message, StringComparison.OrdinalIgnoreCase);
                refused++;
            }
        }

        Assert.Equal(2, accepted);
        Assert.Equal(10, refused);
        Assert.Equal(2, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Emulator_command_bills_the_credits_and_table_it_is_given_and_the_estimate_with_that_table_equals_the_spend()
    {
        string table = Path.Combine(_dir, "prices.json");
        File.WriteAllText(table, """{ "plain": 4 }""");
        var error = new ListeningWriter();
        var console = new CliConsole(new StringWriter(), error, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: false);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Task<int> serving = CliApp.RunAsync(["emulator", "--port", "0", "--credits", "50", "--credit-table", table, "--content-bytes", "100"], console, stop.Token);
        string baseUrl = await error.Address.Task.WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            string input = Input(5);
            string[] connect = ["--base-url", baseUrl, "--token", EmulatorOptions.DefaultToken];
            CliResult estimate = await RunCliAsync(["run", input, "--estimate", "--credit-table", table, .. connect]);
            Assert.True(estimate.Out.Contains("estimated credits: 20 (4 per task", StringComparison.Ordinal), estimate.Out);
            Assert.True(estimate.Out.Contains("available credits: 50", StringComparison.Ordinal), estimate.Out);

            CliResult run = await RunCliAsync(["run", input, "-o", Path.Combine(_dir, "out.jsonl"), "--credit-table", table, .. connect]);
            Assert.Equal(0, run.ExitCode);
            Assert.True(run.Error.Contains("credits: 20 estimated spent, 20 reported by tasks; account 50 before, 30 after.", StringComparison.Ordinal), run.Error);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await serving);
        }

        foreach ((string value, string said) in new[]
        {
            ("-1", "--credits must be a whole number of at least 0, not '-1'."),
            ("abc", "--credits must be a whole number of at least 0, not 'abc'."),
            ("99999999999999999999", "--credits must be at most 9223372036854775807, not '99999999999999999999'."),
        })
        {
            CliResult refused = await RunCliAsync("emulator", "--port", "0", "--credits", value);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains(said, Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }

        CliResult notANumber = await RunCliAsync("emulator", "--port", "0", "--latency-ms", "5-NaN");
        Assert.Equal(1, notANumber.ExitCode);
        Assert.Equal("scrapedo: error: --latency-ms '5-NaN' must satisfy 0 <= MIN <= MAX.", notANumber.Error.Trim());

        foreach (string latency in new[] { "99999999999999999999", "5-99999999999999999999" })
        {
            CliResult refused = await RunCliAsync("emulator", "--port", "0", "--latency-ms", latency);
            Assert.Equal(1, refused.ExitCode);
            Assert.Equal($"scrapedo: error: --latency-ms '{latency}': at most 86400000 ms (a day).", refused.Error.Trim());
        }
    }

    /// <summary>Stderr of an in-process <c>scrapedo emulator</c>: learns the address it listens on.</summary>
    private sealed partial class ListeningWriter : StringWriter
    {
        public TaskCompletionSource<string> Address { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void WriteLine(string? value)
        {
            lock (this)
            {
                base.WriteLine(value);
            }

            if (value is not null && ListeningOn().Match(value) is { Success: true } m)
            {
                Address.TrySetResult(m.Groups[1].Value);
            }
        }

        [GeneratedRegex(@"listening on (http://\S+?) ")]
        private static partial Regex ListeningOn();
    }

    private sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
