using CsCheck;
using ScrapeDo.Lean.Emulator;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.IntegrationTests;

public class RunnerTests
{
    private static readonly RunOptions Fast = new() { FirstPollDelay = TimeSpan.FromMilliseconds(20), MinPollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(200) };

    private static RunOptions With(Func<RunOptions, RunOptions> f) => f(Fast);

    private static async Task<List<TaskOutcome>> CollectAsync(IAsyncEnumerable<TaskOutcome> run)
    {
        var list = new List<TaskOutcome>();
        await foreach (TaskOutcome o in run)
        {
            list.Add(o);
        }

        return list;
    }

    private static void AssertExactlyOnce(IReadOnlyCollection<TaskOutcome> outcomes, int inputs)
    {
        Assert.Equal(inputs, outcomes.Count);
        Assert.Equal(Enumerable.Range(0, inputs).Select(i => (long)i), outcomes.Select(o => o.InputIndex).Order());
    }

    [Fact]
    public async Task Ten_thousand_targets_at_zero_latency_cost_at_most_1_05_requests_per_target()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 256 });
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, new RunOptions());
        string[] urls = Support.Urls(10_000);

        var outcomes = await CollectAsync(runner.RunAsync(urls, cancellationToken: Support.Timeout(120)));

        AssertExactlyOnce(outcomes, 10_000);
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Success, o.Status));
        Assert.All(outcomes, o => Assert.Equal(urls[o.InputIndex], o.Target));
        Assert.Equal(10, emulator.Counters.Jobs);
        Assert.Equal(1, emulator.MaxFetchesOfAnyTask);
        long apiRequests = emulator.Counters.TotalRequests;
        double perTarget = apiRequests / 10_000.0;
        Assert.True(perTarget <= 1.05, $"requests per target {perTarget:0.0000} ({apiRequests} requests)");
    }

    [Fact]
    public async Task Mixed_outcomes_invalid_urls_and_binary_targets_each_get_one_outcome()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TaskLatencyMin = TimeSpan.FromMilliseconds(1), TaskLatencyMax = TimeSpan.FromMilliseconds(30), Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "business")] });
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, With(o => new RunOptions { MaxTargetsPerJob = 7, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval, MaxPollInterval = o.MaxPollInterval }));
        var inputs = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            inputs.Add(i % 10 == 3 ? $"https://site.example/{i}?emulate=error" : i % 10 == 5 ? $"https://site.example/{i}.png" : i % 13 == 0 ? $"not-a-url-{i}" : $"https://site.example/{i}");
        }

        var outcomes = await CollectAsync(runner.RunAsync(inputs, cancellationToken: Support.Timeout()));

        AssertExactlyOnce(outcomes, 40);
        foreach (TaskOutcome o in outcomes)
        {
            string input = inputs[(int)o.InputIndex];
            if (input.StartsWith("not-a-url", StringComparison.Ordinal))
            {
                Assert.Equal(OutcomeStatus.Failed, o.Status);
                Assert.Null(o.JobId);
                Assert.Contains("not an absolute http(s) URL", o.Reason);
            }
            else if (input.Contains("emulate=error"))
            {
                Assert.Equal(OutcomeStatus.Error, o.Status);
                Assert.False(string.IsNullOrEmpty(o.Reason));
            }
            else
            {
                Assert.Equal(OutcomeStatus.Success, o.Status);
                Assert.Equal(input.EndsWith(".png"), o.Details!.Base64EncodedContent);
                Assert.Equal(200, o.StatusCode);
            }
        }

        Assert.Equal(6, emulator.Counters.Jobs);
        Assert.Equal(1, emulator.MaxFetchesOfAnyTask);
    }

    [Fact]
    public async Task Plugin_runs_chunk_parameter_sets_like_urls()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, With(o => new RunOptions { MaxTargetsPerJob = 4, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval }));
        var ps = Enumerable.Range(0, 10).Select(i => GoogleSearchPlugin.Query($"coffee {i}")).ToList();
        var outcomes = await CollectAsync(runner.RunPluginAsync(PluginKeys.GoogleSearch, ps, new CreateJobRequest { GeoCode = "us" }, Support.Timeout()));
        AssertExactlyOnce(outcomes, 10);
        Assert.All(outcomes, o => Assert.Contains($"coffee {o.InputIndex}", o.Details!.GetContentText()));
        Assert.Equal(3, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task A_parameter_set_missing_a_required_parameter_fails_alone_instead_of_taking_its_job_down()
    {
        // Found by the docs review (session 19): the server refuses a plugin job whole for one set that lacks a required
        // parameter, so one bad line of a CLI --plugin run failed every good line in its job.
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, Fast);
        PluginParams[] sets =
        [
            AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001"),
            PluginParams.FromJson("""{"asin":"B0C7BKZ884","geocode":"us"}"""),
            PluginParams.FromJson("""{"asin":"","geocode":"us","zipcode":"10001"}"""),
            PluginParams.FromJson("""{"asin":"B0C7BKZ886","geocode":"us","zipcode":10001,"super":true}"""),
        ];

        var outcomes = await CollectAsync(runner.RunPluginAsync(PluginKeys.AmazonProductDetail, sets, cancellationToken: Support.Timeout()));

        AssertExactlyOnce(outcomes, sets.Length);
        Assert.Equal([OutcomeStatus.Success, OutcomeStatus.Failed, OutcomeStatus.Failed, OutcomeStatus.Success], outcomes.OrderBy(o => o.InputIndex).Select(o => o.Status));
        Assert.Contains("'zipcode' is required by amazon/pdp", outcomes.Single(o => o.InputIndex == 1).Reason);
        Assert.Contains("'asin' is required by amazon/pdp", outcomes.Single(o => o.InputIndex == 2).Reason);
        Assert.Equal(1, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Expired_content_becomes_an_expired_outcome_not_an_exception()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Retention = TimeSpan.FromMilliseconds(1) });
        using var client = Support.Client(emulator);
        var outcomes = await CollectAsync(new ScrapeDoRunner(client, Fast).RunAsync(Support.Urls(5), cancellationToken: Support.Timeout()));
        AssertExactlyOnce(outcomes, 5);
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Expired, o.Status));
        Assert.All(outcomes, o => Assert.NotNull(o.TaskId));
    }

    [Fact]
    public async Task Faults_on_lose_nothing_duplicate_nothing_and_create_no_extra_job()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = 5,
            Faults = new FaultOptions { RateLimitShare = 0.04, ServerErrorShare = 0.03, DropShare = 0.02, TruncateShare = 0.02, RetryAfterSeconds = 0 },
        });
        using var client = Support.Client(emulator);
        // A 500 on create is now ambiguous (it may have committed), so a create that made nothing waits out the reconcile window: keep it short here.
        var runner = new ScrapeDoRunner(client, With(o => new RunOptions { MaxTargetsPerJob = 200, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval, MaxPollInterval = o.MaxPollInterval, ReconcileWindow = TimeSpan.FromSeconds(2) }));

        var outcomes = await CollectAsync(runner.RunAsync(Support.Urls(2000), cancellationToken: Support.Timeout(120)));

        AssertExactlyOnce(outcomes, 2000);
        Assert.All(outcomes, o => Assert.True(o.Status == OutcomeStatus.Success, $"{o}: {o.Reason}"));
        Assert.Equal(10, emulator.Counters.Jobs);
        Assert.True(emulator.Counters.Injected429 + emulator.Counters.Injected5xx + emulator.Counters.InjectedDropCount + emulator.Counters.InjectedTruncationCount > 50);
    }

    [Fact]
    public async Task Cancelling_the_enumeration_stops_promptly_and_cancels_server_jobs()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TaskLatencyMin = TimeSpan.FromSeconds(20), TaskLatencyMax = TimeSpan.FromSeconds(20) });
        using var client = Support.Client(emulator);
        using var cts = new CancellationTokenSource();
        var runner = new ScrapeDoRunner(client, Fast);
        var started = DateTime.UtcNow;
        Task<List<TaskOutcome>> run = CollectAsync(runner.RunAsync(Support.Urls(30), cancellationToken: cts.Token));
        await EmulatorWebhookAndFaultTests.WaitUntil(() => emulator.Counters.JobPolls >= 2, Support.Timeout());
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
        Assert.Equal(1, emulator.Counters.Cancels);
        var page = await client.ListJobsAsync(cancellationToken: Support.Timeout());
        Assert.Equal(ScrapeDoStatus.Canceled, page.Jobs.Single().Status);
    }

    [Fact]
    public async Task A_refused_token_stops_the_run_with_the_api_exception()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator, token: "nope");
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => CollectAsync(new ScrapeDoRunner(client, Fast).RunAsync(Support.Urls(3), cancellationToken: Support.Timeout())));
        Assert.True(ex.IsUnauthorized);
    }

    [Fact]
    public async Task Resume_after_a_crash_mid_fetch_delivers_only_the_rest_and_creates_no_job()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-journal-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var emulator = await ScrapeDoEmulator.StartAsync();
            using var client = Support.Client(emulator);
            string[] urls = Support.Urls(250);
            RunOptions options = With(o => new RunOptions { MaxTargetsPerJob = 100, JournalPath = journal, Resume = true, CancelJobsOnCancellation = false, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval });

            var first = new List<TaskOutcome>();
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, options).RunAsync(urls, cancellationToken: Support.Timeout()))
            {
                first.Add(o);
                if (first.Count == 120)
                {
                    break; // the process "dies" here: the run is abandoned without cancelling its jobs
                }
            }

            long jobsAfterCrash = emulator.Counters.Jobs;
            // A torn line from the crash must be tolerated.
            await File.AppendAllTextAsync(journal, "{\"t\":\"done\",\"x\":");
            var second = await CollectAsync(new ScrapeDoRunner(client, options).RunAsync(urls, cancellationToken: Support.Timeout()));

            AssertExactlyOnce([.. first, .. second], 250);
            Assert.Equal(jobsAfterCrash, emulator.Counters.Jobs);
            Assert.Equal(3, emulator.Counters.Jobs);

            var third = await CollectAsync(new ScrapeDoRunner(client, options).RunAsync(urls, cancellationToken: Support.Timeout()));
            Assert.Empty(third);
            Assert.Equal(3, emulator.Counters.Jobs);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task Resume_after_a_crash_before_the_create_answer_reconciles_instead_of_resubmitting()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-journal-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var emulator = await ScrapeDoEmulator.StartAsync();
            using var client = Support.Client(emulator);
            string[] urls = Support.Urls(150);
            // Chunk 0 was sent and the server created it, but the crash came before the answer was journaled.
            var existing = await client.CreateJobAsync(new CreateJobRequest { Targets = urls[..100] }, Support.Timeout());
            // Chunk 1 was journaled as submitted but the request never left the process.
            DateTimeOffset at = DateTimeOffset.UtcNow;
            await File.WriteAllLinesAsync(journal,
            [
                """{"t":"run","n":100}""",
                $$"""{"t":"submit","c":0,"x":0,"n":100,"at":"{{at:O}}","h":"{{RunJournal.HashTargets(urls[..100])}}"}""",
                $$"""{"t":"submit","c":1,"x":100,"n":50,"at":"{{at:O}}","h":"{{RunJournal.HashTargets(urls[100..])}}"}""",
            ]);

            // Chunk 1's absence is proven only by a listing after the settle window; a short one keeps the test quick.
            RunOptions options = With(o => new RunOptions { MaxTargetsPerJob = 100, JournalPath = journal, Resume = true, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval, ReconcileWindow = TimeSpan.FromSeconds(2) });
            var outcomes = await CollectAsync(new ScrapeDoRunner(client, options).RunAsync(urls, cancellationToken: Support.Timeout()));

            AssertExactlyOnce(outcomes, 150);
            Assert.Equal(2, emulator.Counters.Jobs);
            Assert.All(outcomes.Where(o => o.InputIndex < 100), o => Assert.Equal(existing.JobId, o.JobId));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task An_existing_journal_is_not_overwritten_without_resume_nor_resumed_on_other_input()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-journal-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var emulator = await ScrapeDoEmulator.StartAsync();
            using var client = Support.Client(emulator);
            await CollectAsync(new ScrapeDoRunner(client, With(o => new RunOptions { JournalPath = journal, FirstPollDelay = o.FirstPollDelay })).RunAsync(Support.Urls(3), cancellationToken: Support.Timeout()));

            var again = await Assert.ThrowsAsync<InvalidOperationException>(() => CollectAsync(new ScrapeDoRunner(client, new RunOptions { JournalPath = journal }).RunAsync(Support.Urls(3), cancellationToken: Support.Timeout())));
            Assert.Contains("already records a run", again.Message);
            var other = await Assert.ThrowsAsync<InvalidOperationException>(() => CollectAsync(new ScrapeDoRunner(client, new RunOptions { JournalPath = journal, Resume = true }).RunAsync(Support.Urls(3, "https://other.example"), cancellationToken: Support.Timeout())));
            Assert.Contains("input differs", other.Message);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task Any_outcome_schedule_yields_exactly_one_outcome_per_target()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")],
            TaskErrorShare = 0.2,
            TaskLatencyMin = TimeSpan.Zero,
            TaskLatencyMax = TimeSpan.FromMilliseconds(20),
        });
        using var client = Support.Client(emulator);
        var gen = Gen.Select(Gen.Int[1, 120], Gen.Int[1, 50], Gen.Int[0, 4]);
        await gen.SampleAsync(async (count, chunk, badEvery) =>
        {
            string[] urls = Enumerable.Range(0, count).Select(i => badEvery > 0 && i % (badEvery + 3) == 0 ? $"bad {i}" : $"https://p.example/{Guid.NewGuid():N}/{i}").ToArray();
            var runner = new ScrapeDoRunner(client, With(o => new RunOptions { MaxTargetsPerJob = chunk, FirstPollDelay = o.FirstPollDelay, MinPollInterval = o.MinPollInterval, MaxPollInterval = o.MaxPollInterval }));
            var outcomes = await CollectAsync(runner.RunAsync(urls, cancellationToken: Support.Timeout()));
            return outcomes.Count == count
                && outcomes.Select(o => o.InputIndex).Distinct().Count() == count
                && outcomes.All(o => o.Target == urls[o.InputIndex])
                && outcomes.All(o => o.Target.StartsWith("bad ", StringComparison.Ordinal) ? o.Status == OutcomeStatus.Failed : o.Status is OutcomeStatus.Success or OutcomeStatus.Error);
        }, iter: 12, threads: 1);
    }
}
