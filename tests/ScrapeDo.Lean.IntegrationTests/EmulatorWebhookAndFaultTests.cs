using System.Net;
using System.Text;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

public class EmulatorWebhookAndFaultTests
{
    private static readonly WebhookOptions FastWebhooks = new()
    {
        RetryLadder = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)],
        GoneRetryDelay = TimeSpan.FromMilliseconds(100),
        AttemptTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Webhook_is_delivered_once_per_terminal_task_with_its_headers()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Webhooks = FastWebhooks });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest
        {
            Targets = [.. Support.Urls(9), "https://a.example/bad?emulate=error"],
            WebhookUrl = receiver.Url.ToString(),
            WebhookHeaders = new Dictionary<string, string> { ["X-Hook-Secret"] = "s3cret" },
        }, ct);

        await WaitUntil(() => emulator.Counters.WebhookDeliveredCount == 10, ct);
        await Task.Delay(100, ct);

        Assert.Equal(10, receiver.Deliveries.Count);
        Assert.Equal(created.TaskIds.Order(), receiver.Deliveries.Select(d => d.TaskId).Order());
        Assert.All(receiver.Deliveries, d => Assert.Equal("s3cret", d.Secret));
        Assert.Equal(10, emulator.Counters.WebhookAttemptCount);
        TaskDetails task = await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct);
        Assert.Equal(WebhookDeliveryStatus.Success, task.WebhookStatus);
        Assert.Equal(receiver.Url.ToString(), task.WebhookUrl);
        Assert.NotNull(task.WebhookRequestTime);
    }

    [Fact]
    public async Task Failing_receiver_gets_the_retry_ladder_then_success()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.StatusForAttempt = n => n <= 2 ? 503 : 200;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Webhooks = FastWebhooks });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1"], WebhookUrl = receiver.Url.ToString() }, ct);
        await WaitUntil(() => emulator.Counters.WebhookDeliveredCount == 1, ct);
        Assert.Equal(3, receiver.Attempts);
        Assert.Single(receiver.Deliveries);
    }

    [Fact]
    public async Task Receiver_answering_410_gets_one_later_attempt_then_failed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.StatusForAttempt = _ => 410;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Webhooks = FastWebhooks });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1"], WebhookUrl = receiver.Url.ToString() }, ct);
        await WaitUntil(() => emulator.Counters.WebhookFailedCount == 1, ct);
        Assert.Equal(2, receiver.Attempts);
        Assert.Equal(WebhookDeliveryStatus.Failed, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).WebhookStatus);
    }

    [Fact]
    public async Task Non_loopback_webhook_urls_are_never_called()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Webhooks = FastWebhooks });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1"], WebhookUrl = "https://hooks.example.com/x" }, ct);
        await WaitUntil(() => emulator.Counters.WebhookFailedCount == 1, ct);
        Assert.Equal(0, emulator.Counters.WebhookAttemptCount);
    }

    [Fact]
    public async Task Injected_429_and_5xx_are_absorbed_by_client_retries_and_a_refused_create_creates_nothing()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = 3,
            Faults = new FaultOptions { RateLimitShare = 0.2, ServerErrorShare = 0.2, RetryAfterSeconds = 0 },
        });
        using var client = Support.Client(emulator, retry: new ScrapeDoRetryOptions { MaxAttempts = 12, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), BudgetTokens = 0 });
        var ct = Support.Timeout();
        var jobIds = new List<string>();
        int unknownOutcomes = 0;
        for (int i = 0; i < 20; i++)
        {
            try
            {
                jobIds.Add((await client.CreateJobAsync(new CreateJobRequest { Targets = [$"https://a.example/{i}"] }, ct)).JobId);
            }
            catch (ScrapeDoApiException ex) when (ex.CreateOutcomeUnknown)
            {
                // A 500 or 502 may follow a commit, so the client does not replay it; the emulator's refused create made no job.
                Assert.True(ex.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway, $"unexpected {ex.StatusCode}");
                unknownOutcomes++;
            }
        }

        foreach (string id in jobIds)
        {
            await Support.WaitForJobAsync(client, id, ct);
        }

        Assert.Equal(jobIds.Count, emulator.Counters.Jobs);
        Assert.Equal(20, jobIds.Count + unknownOutcomes);
        Assert.True(emulator.Counters.Injected429 > 0, "some 429s were injected");
        Assert.True(emulator.Counters.Injected5xx > 0, "some 5xx were injected");
        Assert.True(emulator.Counters.Creates > 20, "refused creates were retried");
        Assert.True(client.RetriesScheduled > 0);
    }

    [Fact]
    public async Task Dropped_and_truncated_answers_to_gets_are_retried()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Seed = 11 });
        using var setup = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await setup.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1"] }, ct);
        await using var faulty = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Seed = 11, Faults = new FaultOptions { DropShare = 0.3, TruncateShare = 0.3 } });
        using var client = Support.Client(faulty, retry: new ScrapeDoRetryOptions { MaxAttempts = 20, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), BudgetTokens = 0 });
        for (int i = 0; i < 15; i++)
        {
            AccountInfo me = await client.GetAccountAsync(ct);
            Assert.Equal(5, me.TotalConcurrency);
        }

        Assert.True(faulty.Counters.InjectedDropCount > 0);
        Assert.True(faulty.Counters.InjectedTruncationCount > 0);
        Assert.Equal(15 + faulty.Counters.InjectedDropCount + faulty.Counters.InjectedTruncationCount, faulty.Counters.AccountRequests);
    }

    [Fact]
    public async Task A_dropped_create_is_ambiguous_the_job_exists_and_the_client_does_not_replay()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Faults = new FaultOptions { DropShare = 1.0 } });
        using var client = Support.Client(emulator);
        var ex = await Assert.ThrowsAnyAsync<ScrapeDoException>(() => client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1"] }, Support.Timeout()));
        Assert.True(ex.CreateOutcomeUnknown);
        Assert.Equal(1, emulator.Counters.Creates);
        Assert.Equal(1, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Slow_answers_past_the_attempt_timeout_raise_timeouts_and_gets_retry()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Faults = new FaultOptions { SlowShare = 1.0, SlowDelay = TimeSpan.FromSeconds(3) } });
        // 1 s per attempt (the server answers after 3 s): with 200 ms a loaded CI machine once timed the second attempt
        // out while it was still connecting, before the server saw it.
        using var client = Support.Client(emulator, retry: new ScrapeDoRetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }, attemptTimeout: TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<ScrapeDoTimeoutException>(() => client.GetAccountAsync(Support.Timeout()));
        Assert.Equal(2, ex.Attempts);
        Assert.Equal(2, emulator.Counters.AccountRequests);
    }

    [Fact]
    public async Task Per_token_rate_limit_answers_429_with_retry_after()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Faults = new FaultOptions { RequestsPerSecondPerToken = 3 } });
        using var raw = Support.Raw(emulator);
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 6; i++)
        {
            using var response = await raw.GetAsync("api/v1/me");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }

        // Six requests inside one or two wall-clock seconds: at least the 4th of some second is refused.
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3);
    }

    internal static async Task WaitUntil(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(10, ct);
        }
    }
}
