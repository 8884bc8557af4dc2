using System.Net;
using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Internal.Json;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

/// <summary>The pieces the watch stage leans on: status casing, the bounded webhook queue, and how a watch ends.</summary>
public class WatchSideTests
{
    [Theory]
    [InlineData("Success")]
    [InlineData("SUCCESS")]
    [InlineData("success")]
    public void A_known_status_in_any_casing_is_the_known_status_and_terminal(string wire)
    {
        var parsed = JsonSerializer.Deserialize($$"""{"TaskID":"t","JobID":"j","Status":"{{wire}}"}""", ScrapeDoJsonContext.Default.TaskDetails)!;
        Assert.Equal(ScrapeDoStatus.Success, parsed.Status);
        Assert.True(parsed.Status.IsTerminal);
        Assert.True(ScrapeDoStatus.FromString(wire).IsTerminal);
        Assert.Equal(ScrapeDoStatus.Success.GetHashCode(), new ScrapeDoStatus(wire).GetHashCode());
    }

    [Fact]
    public void An_unknown_status_stays_unknown_and_not_terminal()
    {
        ScrapeDoStatus status = ScrapeDoStatus.FromString("Suspended");
        Assert.Equal("Suspended", status.Value);
        Assert.False(status.IsTerminal);
    }

    [Fact]
    public async Task The_webhook_queue_is_bounded_drops_new_deliveries_while_full_and_counts_them()
    {
        string secret = ScrapeDoWebhookReceiver.NewSecret();
        var receiver = new ScrapeDoWebhookReceiver(secret, maxQueuedDeliveries: 2);
        for (int i = 0; i < 5; i++)
        {
            using var body = new MemoryStream(Encoding.UTF8.GetBytes($$"""{"TaskID":"t{{i}}","JobID":"j","Status":"success"}"""));
            WebhookReceipt receipt = await receiver.ReceiveAsync(h => h == receiver.SecretHeader ? secret : null, body, TestSupport.Timeout());
            // The sender is told 200 either way: polling, not the webhook, guarantees the outcome.
            Assert.Equal(200, receipt.StatusCode);
        }

        Assert.Equal(3, receiver.DroppedDeliveries);
        Assert.True(receiver.Deliveries.TryRead(out TaskDetails? first));
        Assert.True(receiver.Deliveries.TryRead(out TaskDetails? second));
        Assert.False(receiver.Deliveries.TryRead(out _));
        Assert.Equal(["t0", "t1"], new[] { first!.TaskId, second!.TaskId });
    }

    [Fact]
    public void The_webhook_queue_capacity_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret(), maxQueuedDeliveries: 0));

    [Fact]
    public void Run_options_refuse_a_non_positive_job_deadline_and_a_negative_not_found_grace()
    {
        using var client = TestSupport.Client(new MockHttpMessageHandler());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { JobDeadline = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { NotFoundGrace = TimeSpan.FromSeconds(-1) }));
        _ = new ScrapeDoRunner(client, new RunOptions { JobDeadline = Timeout.InfiniteTimeSpan });
    }

    [Fact]
    public void Run_options_refuse_what_would_bill_twice_or_fail_only_later()
    {
        using var client = TestSupport.Client(new MockHttpMessageHandler());
        // A negative skew would list only jobs started after the create, so a lost create's job is never found and sent again.
        Assert.Equal("ReconcileClockSkew", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { ReconcileClockSkew = TimeSpan.FromMinutes(-1) })).ParamName);
        Assert.Equal("ReconcileClockSkew", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { ReconcileClockSkew = TimeSpan.FromDays(2) })).ParamName);
        Assert.Equal("Resume", Assert.Throws<ArgumentException>(() => new ScrapeDoRunner(client, new RunOptions { Resume = true })).ParamName);
        Assert.Equal("MaxUnflushedOutcomes", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { MaxUnflushedOutcomes = 0 })).ParamName);
        // Waits longer than a timer takes (about 49.7 days) are refused at construction, not thrown by the first wait.
        Assert.Equal("FirstPollDelay", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { FirstPollDelay = TimeSpan.FromDays(50) })).ParamName);
        Assert.Equal("MaxPollInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoRunner(client, new RunOptions { MaxPollInterval = TimeSpan.FromDays(50) })).ParamName);
        _ = new ScrapeDoRunner(client, new RunOptions { ReconcileClockSkew = TimeSpan.Zero, FirstPollDelay = TimeSpan.FromDays(49), MaxPollInterval = TimeSpan.FromDays(49), MaxUnflushedOutcomes = 1 });
    }

    [Fact]
    public void Argument_errors_of_the_streaming_calls_are_thrown_by_the_call_not_at_the_first_MoveNextAsync()
    {
        using var client = TestSupport.Client(new MockHttpMessageHandler());
        var runner = new ScrapeDoRunner(client);
        // Nothing is enumerated here: the exceptions come from the calls themselves.
        Assert.Equal("template", Assert.Throws<ArgumentException>(() => runner.RunAsync(["https://a.example/"], new CreateJobRequest { Targets = ["https://b.example/"] })).ParamName);
        Assert.Equal("template", Assert.Throws<ArgumentException>(() => runner.RunPluginAsync(PluginKeys.AmazonProductDetail, [AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001")], new CreateJobRequest { Targets = ["https://b.example/"] })).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.ListAllJobsAsync(new ListJobsQuery { PageSize = 0 }));
    }

    [Fact]
    public void Client_options_refuse_waits_longer_than_a_timer_takes()
    {
        var ok = new ScrapeDoClientOptions { Token = "t" };
        Assert.Equal("AttemptTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoClientOptions { Token = "t", AttemptTimeout = TimeSpan.FromDays(60) }.Validate()).ParamName);
        Assert.Equal("MaxDelay", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoClientOptions { Token = "t", Retry = new ScrapeDoRetryOptions { MaxDelay = TimeSpan.MaxValue } }.Validate()).ParamName);
        Assert.Equal("MaxRetryAfter", Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoClientOptions { Token = "t", Retry = new ScrapeDoRetryOptions { MaxRetryAfter = TimeSpan.FromDays(60) } }.Validate()).ParamName);
        ok.Validate();
        new ScrapeDoClientOptions { Token = "t", AttemptTimeout = Timeout.InfiniteTimeSpan, Retry = new ScrapeDoRetryOptions { MaxDelay = TimeSpan.FromDays(49) } }.Validate();
    }

    [Fact]
    public async Task A_job_that_reports_itself_finished_while_its_snapshot_omits_a_task_ends_with_that_task_fetched_once()
    {
        var mock = new MockHttpMessageHandler();
        mock.NoJobsListed();
        mock.When(HttpMethod.Post, "*/api/v1/jobs").Respond("application/json", """{"JobID":"j1","TaskIDs":["a","b"],"Message":"ok"}""");
        // The job says success but lists only task a: b is fetched directly, once, instead of being waited for forever.
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1").Respond("application/json",
            """{"JobID":"j1","Status":"success","TaskIDs":["a","b"],"Tasks":[{"TaskID":"a","URL":"https://a.example/1","Status":"success"}]}""");
        var fetchB = mock.When(HttpMethod.Get, "*/api/v1/jobs/j1/b").Respond("application/json", """{"TaskID":"b","JobID":"j1","URL":"https://a.example/2","Status":"success","Content":"B"}""");
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1/a").Respond("application/json", """{"TaskID":"a","JobID":"j1","URL":"https://a.example/1","Status":"success","Content":"A"}""");
        using var client = TestSupport.Client(mock);
        var runner = new ScrapeDoRunner(client, FastOptions());

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(["https://a.example/1", "https://a.example/2"], cancellationToken: TestSupport.Timeout()))
        {
            outcomes.Add(o);
        }

        Assert.Equal([OutcomeStatus.Success, OutcomeStatus.Success], outcomes.OrderBy(o => o.InputIndex).Select(o => o.Status));
        Assert.Equal(1, mock.GetMatchCount(fetchB));
    }

    [Fact]
    public async Task A_retry_after_of_months_ends_the_fetch_when_the_run_gives_up_instead_of_failing_the_run()
    {
        var mock = new MockHttpMessageHandler();
        mock.NoJobsListed();
        mock.When(HttpMethod.Post, "*/api/v1/jobs").Respond("application/json", """{"JobID":"j1","TaskIDs":["a"],"Message":"ok"}""");
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1").Respond("application/json",
            """{"JobID":"j1","Status":"success","TaskIDs":["a"],"Tasks":[{"TaskID":"a","URL":"https://a.example/1","Status":"success"}]}""");
        // 60 days: past what the client waits (so the call fails at once) and past what a timer takes.
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1/a").Respond(_ => new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Content = new StringContent("""{"Error":"slow down","Code":429}""", System.Text.Encoding.UTF8, "application/json"),
            Headers = { RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromDays(60)) },
        });
        using var client = TestSupport.Client(mock);
        var runner = new ScrapeDoRunner(client, new RunOptions { MaxJobsInFlight = 1, FirstPollDelay = TimeSpan.Zero, MinPollInterval = TimeSpan.FromMilliseconds(10), GiveUpAfter = TimeSpan.FromMilliseconds(300) });

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(["https://a.example/1"], cancellationToken: TestSupport.Timeout()))
        {
            outcomes.Add(o);
        }

        TaskOutcome only = Assert.Single(outcomes);
        Assert.Equal(OutcomeStatus.Failed, only.Status);
    }

    [Fact]
    public async Task A_410_on_the_job_ends_its_undelivered_targets_as_expired()
    {
        var mock = new MockHttpMessageHandler();
        mock.NoJobsListed();
        mock.When(HttpMethod.Post, "*/api/v1/jobs").Respond("application/json", """{"JobID":"j1","TaskIDs":["a","b"],"Message":"ok"}""");
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1").Respond(HttpStatusCode.Gone, "application/json", """{"Error":"expired","Code":410}""");
        using var client = TestSupport.Client(mock);
        var runner = new ScrapeDoRunner(client, FastOptions());

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(["https://a.example/1", "https://a.example/2"], cancellationToken: TestSupport.Timeout()))
        {
            outcomes.Add(o);
        }

        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Expired, o.Status));
    }

    [Fact]
    public async Task A_poll_refused_with_a_client_error_ends_only_that_job_and_cancels_it_on_the_server()
    {
        var mock = new MockHttpMessageHandler();
        mock.NoJobsListed();
        mock.When(HttpMethod.Post, "*/api/v1/jobs").Respond("application/json", """{"JobID":"j1","TaskIDs":["a"],"Message":"ok"}""");
        mock.When(HttpMethod.Get, "*/api/v1/jobs/j1").Respond(HttpStatusCode.BadRequest, "application/json", """{"Error":"bad job id","Code":400}""");
        var cancel = mock.When(HttpMethod.Delete, "*/api/v1/jobs/j1").Respond("application/json", """{"JobID":"j1","Status":"canceled","Canceled":true}""");
        using var client = TestSupport.Client(mock);
        var runner = new ScrapeDoRunner(client, FastOptions());

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(["https://a.example/1"], cancellationToken: TestSupport.Timeout()))
        {
            outcomes.Add(o);
        }

        TaskOutcome only = Assert.Single(outcomes);
        Assert.Equal(OutcomeStatus.Failed, only.Status);
        Assert.Contains("bad job id", only.Reason);
        Assert.Equal(1, mock.GetMatchCount(cancel));
    }

    private static RunOptions FastOptions() => new()
    {
        MaxJobsInFlight = 1,
        FirstPollDelay = TimeSpan.FromMilliseconds(1),
        MinPollInterval = TimeSpan.FromMilliseconds(5),
        MaxPollInterval = TimeSpan.FromMilliseconds(20),
        NotFoundGrace = TimeSpan.Zero,
    };
}
