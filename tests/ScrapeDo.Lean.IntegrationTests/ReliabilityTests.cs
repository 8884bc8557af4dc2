using System.Diagnostics;
using System.Net;
using System.Text;
using ScrapeDo.Lean.AspNetCore;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Emulator;
using Xunit.Abstractions;

namespace ScrapeDo.Lean.IntegrationTests;

public class ReliabilityTests(ITestOutputHelper output)
{
    private static RunOptions FastPolls(int chunk = 1000, System.Threading.Channels.ChannelReader<TaskDetails>? webhooks = null) => new()
    {
        MaxTargetsPerJob = chunk,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(500),
        WebhookDeliveries = webhooks,
    };

    private static async Task<List<TaskOutcome>> CollectAsync(IAsyncEnumerable<TaskOutcome> run)
    {
        var list = new List<TaskOutcome>();
        await foreach (TaskOutcome o in run)
        {
            list.Add(o);
        }

        return list;
    }

    [Fact]
    public async Task Five_thousand_targets_under_ten_percent_mixed_faults_lose_nothing_and_duplicate_nothing()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = 42,
            Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")],
            TaskLatencyMax = TimeSpan.FromMilliseconds(20),
            Faults = new FaultOptions
            {
                RateLimitShare = 0.03, RetryAfterSeconds = 1,
                ServerErrorShare = 0.03,
                DropShare = 0.015,
                TruncateShare = 0.015,
                SlowShare = 0.01, SlowDelay = TimeSpan.FromSeconds(3),
            },
        });
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions
        {
            Token = EmulatorOptions.DefaultToken,
            BaseAddress = emulator.BaseAddress,
            AttemptTimeout = TimeSpan.FromSeconds(1),
            Retry = new ScrapeDoRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(500) },
        });
        var clock = Stopwatch.StartNew();
        var outcomes = await CollectAsync(new ScrapeDoRunner(client, FastPolls()).RunAsync(Support.Urls(5000), cancellationToken: Support.Timeout(180)));
        clock.Stop();

        Assert.Equal(5000, outcomes.Count);
        Assert.Equal(5000, outcomes.Select(o => o.InputIndex).Distinct().Count());
        Assert.All(outcomes, o => Assert.True(o.Status == OutcomeStatus.Success, $"{o}: {o.Reason}"));
        Assert.Equal(5, emulator.Counters.Jobs);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"took {clock.Elapsed}");
        var c = emulator.Counters;
        output.WriteLine($"5000 targets: {c.TotalRequests} requests, faults 429={c.Injected429} 5xx={c.Injected5xx} drops={c.InjectedDropCount} truncated={c.InjectedTruncationCount} slow={c.InjectedSlowCount}, " +
            $"jobs={c.Jobs}, outcomes={outcomes.Count}, duplicates=0, lost=0, retries={client.RetriesScheduled}, wall={clock.Elapsed.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task A_429_storm_slows_the_client_instead_of_multiplying_requests()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = 9,
            Faults = new FaultOptions { RateLimitShare = 0.5, RetryAfterSeconds = 1 },
        });
        using var client = Support.Client(emulator, retry: new ScrapeDoRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromSeconds(2) });
        var clock = Stopwatch.StartNew();
        var outcomes = await CollectAsync(new ScrapeDoRunner(client, FastPolls()).RunAsync(Support.Urls(160), cancellationToken: Support.Timeout(180)));
        clock.Stop();

        Assert.Equal(160, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Success, o.Status));
        double perTarget = emulator.Counters.TotalRequests / 160.0;
        // Half the answers are 429: about two requests per target is the floor; a retry storm would be far above it.
        Assert.True(perTarget < 2.6, $"requests per target {perTarget:0.00}");
        // Every 429 said "Retry-After: 1"; honouring it makes the storm cost wall time, not requests.
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(2), $"took only {clock.Elapsed}");
        output.WriteLine($"429 storm, 160 targets: {emulator.Counters.TotalRequests} requests ({perTarget:0.00}/target), {emulator.Counters.Injected429} answered 429, wall {clock.Elapsed.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task Webhooks_are_a_fast_path_each_task_once_and_forged_or_duplicate_deliveries_change_nothing()
    {
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
        await using var app = await StartReceiverAsync(receiver);
        Uri hook = new(app.Address, "scrapedo/webhook");
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(5),
            TaskLatencyMax = TimeSpan.FromMilliseconds(30),
        });
        using var client = Support.Client(emulator);
        var options = FastPolls(chunk: 100, webhooks: receiver.Deliveries);
        var template = new CreateJobRequest { WebhookUrl = hook.ToString(), WebhookHeaders = receiver.WebhookHeaders };

        using var http = new HttpClient();
        var forgeries = Task.Run(async () =>
        {
            // Forged: wrong secret. It must be refused before its body is read.
            using var forged = new HttpRequestMessage(HttpMethod.Post, hook) { Content = new StringContent("""{"TaskID":"x","JobID":"y","Status":"success","Content":"evil"}""", Encoding.UTF8, "application/json") };
            forged.Headers.Add(receiver.SecretHeader, "not-the-secret-at-all");
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
            // Right secret, but a task this run does not own: accepted by the receiver, ignored by the runner.
            using var stray = new HttpRequestMessage(HttpMethod.Post, hook) { Content = new StringContent("""{"TaskID":"x","JobID":"y","Status":"success","Content":"stray"}""", Encoding.UTF8, "application/json") };
            stray.Headers.Add(receiver.SecretHeader, receiver.WebhookHeaders[receiver.SecretHeader]);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(stray)).StatusCode);
            // Right secret, garbage body.
            using var garbage = new HttpRequestMessage(HttpMethod.Post, hook) { Content = new StringContent("{not json", Encoding.UTF8, "application/json") };
            garbage.Headers.Add(receiver.SecretHeader, receiver.WebhookHeaders[receiver.SecretHeader]);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(garbage)).StatusCode);
        });

        var outcomes = await CollectAsync(new ScrapeDoRunner(client, options).RunAsync(Support.Urls(400), template, Support.Timeout(120)));
        await forgeries;

        Assert.Equal(400, outcomes.Count);
        Assert.Equal(400, outcomes.Select(o => o.InputIndex).Distinct().Count());
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Success, o.Status));
        Assert.DoesNotContain(outcomes, o => o.Details!.GetContentText() is "evil" or "stray");
        // Every task was delivered by webhook, by fetch, or both raced and one won; fetches were saved where the hook won.
        long fetches = emulator.Counters.TaskFetches;
        Assert.True(fetches < 400, $"webhooks saved no fetch ({fetches} fetches)");
        output.WriteLine($"webhook fast path: 400 targets, {fetches} fetches, {emulator.Counters.WebhookDeliveredCount} webhook deliveries, forged=1 refused (401), stray=1 ignored, garbage=1 refused (400)");

        // Duplicate deliveries after the run: the receiver accepts them, nothing is delivered twice (the run is over).
        receiver.Complete();
    }

    [Fact]
    public async Task The_token_never_appears_in_cli_output_records_journal_or_errors()
    {
        const string Token = "tok-SECRET-5f2a9c1e7d3b4a60";
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount(Token, "pro")],
            Faults = new FaultOptions { ServerErrorShare = 0.1, RateLimitShare = 0.1, RetryAfterSeconds = 0 },
        });
        string dir = Directory.CreateTempSubdirectory("scrapedo-secret-").FullName;
        try
        {
            string input = Path.Combine(dir, "u.txt");
            await File.WriteAllTextAsync(input, string.Join('\n', Support.Urls(50)) + "\nnot-a-url\nhttps://x.example/e?emulate=error\n");
            string output = Path.Combine(dir, "out.jsonl"), journal = Path.Combine(dir, "run.journal");
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var console = new CliConsole(stdout, stderr, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: true);
            int code = await CliApp.RunAsync(["run", input, "-o", output, "--journal", journal, "--base-url", emulator.BaseAddress.ToString(), "--token", Token], console, Support.Timeout(120));
            Assert.Equal(ExitCodes.SomeFailed, code);

            var wrongToken = new StringWriter();
            await CliApp.RunAsync(["account", "--base-url", emulator.BaseAddress.ToString(), "--token", Token + "x"], new CliConsole(wrongToken, wrongToken, () => new MemoryStream(), () => new MemoryStream(), false), Support.Timeout());

            using var client = Support.Client(emulator, Token);
            var options = new ScrapeDoClientOptions { Token = Token, BaseAddress = emulator.BaseAddress };
            var texts = new Dictionary<string, string>
            {
                ["stdout"] = stdout.ToString(),
                ["stderr"] = stderr.ToString(),
                ["records"] = await File.ReadAllTextAsync(output),
                ["journal"] = await File.ReadAllTextAsync(journal),
                ["wrong-token run"] = wrongToken.ToString(),
                ["client"] = client.ToString(),
                ["options"] = options.ToString(),
            };
            try
            {
                await client.GetJobAsync(Guid.NewGuid().ToString(), Support.Timeout());
            }
            catch (ScrapeDoException ex)
            {
                texts["exception"] = ex.ToString();
            }

            foreach ((string where, string text) in texts)
            {
                Assert.False(text.Contains(Token, StringComparison.Ordinal), $"the token leaked into {where}");
            }

            Assert.Contains("exception", texts.Keys);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Cancelling_at_random_points_never_hangs()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            TaskLatencyMin = TimeSpan.FromMilliseconds(1),
            TaskLatencyMax = TimeSpan.FromMilliseconds(50),
            Faults = new FaultOptions { SlowShare = 0.05, SlowDelay = TimeSpan.FromSeconds(30) },
        });
        using var client = Support.Client(emulator);
        var random = new Random(17);
        for (int round = 0; round < 12; round++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(0, 400)));
            var clock = Stopwatch.StartNew();
            try
            {
                await CollectAsync(new ScrapeDoRunner(client, FastPolls(chunk: 50)).RunAsync(Support.Urls(200, $"https://r{round}.example"), cancellationToken: cts.Token)).WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (OperationCanceledException)
            {
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"round {round} took {clock.Elapsed}");
        }
    }

    [Fact]
    public async Task Disposing_the_client_mid_run_ends_the_run_promptly()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TaskLatencyMin = TimeSpan.FromMilliseconds(200), TaskLatencyMax = TimeSpan.FromMilliseconds(400) });
        var client = Support.Client(emulator);
        Task<List<TaskOutcome>> run = CollectAsync(new ScrapeDoRunner(client, FastPolls(chunk: 20)).RunAsync(Support.Urls(200), cancellationToken: Support.Timeout()));
        await EmulatorWebhookAndFaultTests.WaitUntil(() => emulator.Counters.JobPolls >= 1, Support.Timeout());
        client.Dispose();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(() => run.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    private static Task<LoopbackApp> StartReceiverAsync(ScrapeDoWebhookReceiver receiver) =>
        Support.StartLoopbackAppAsync(app => app.MapScrapeDoWebhook("/scrapedo/webhook", receiver));
}
