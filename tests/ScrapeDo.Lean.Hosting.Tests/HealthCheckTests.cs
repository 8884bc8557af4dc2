using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Hosting.Tests;

public sealed class HealthCheckTests
{
    private static ServiceProvider Services(Uri baseAddress, string token, Action<ScrapeDoHealthCheckOptions>? configure = null, TimeProvider? clock = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddScrapeDo(o =>
        {
            o.Token = token;
            o.BaseAddress = baseAddress;
            o.AttemptTimeout = clock is null ? TimeSpan.FromSeconds(5) : Timeout.InfiniteTimeSpan;
            o.TimeProvider = clock ?? TimeProvider.System;
            o.Retry = new ScrapeDoRetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(10) };
        });
        services.AddHealthChecks().AddScrapeDo(configure: configure);
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider provider)
    {
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestTimeout.Token());
        return report.Entries["scrapedo"];
    }

    [Fact]
    public async Task The_check_has_a_timeout_of_its_own_and_refuses_thresholds_that_mean_nothing()
    {
        await using (ServiceProvider provider = Services(new Uri("https://api.example/"), "t"))
        {
            HealthCheckRegistration registration = Assert.Single(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>().Value.Registrations);
            Assert.Equal(TimeSpan.FromSeconds(10), registration.Timeout);
        }

        var services = new ServiceCollection();
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddHealthChecks().AddScrapeDo(configure: o => o.NoFreeSlotTolerance = TimeSpan.FromSeconds(-5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddHealthChecks().AddScrapeDo(configure: o => o.MinimumCredits = -1));
        services.AddHealthChecks().AddScrapeDo(configure: o => o.NoFreeSlotTolerance = Timeout.InfiniteTimeSpan, timeout: Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public async Task An_unreachable_api_is_reported_within_the_checks_timeout_not_after_the_clients_retries()
    {
        // A port that accepts connections and never answers: each attempt would wait the client's full attempt timeout.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var services = new ServiceCollection();
        services.AddScrapeDo(o =>
        {
            o.Token = "t";
            o.BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
            o.AttemptTimeout = TimeSpan.FromSeconds(30);
        });
        services.AddHealthChecks().AddScrapeDo(timeout: TimeSpan.FromMilliseconds(300));
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.True(entry.Duration < TimeSpan.FromSeconds(10), $"took {entry.Duration}");
    }

    [Fact]
    public async Task Healthy_with_a_valid_token_and_free_slots()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        await using ServiceProvider provider = Services(emulator.BaseAddress, EmulatorOptions.DefaultToken);

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(1, emulator.Counters.AccountRequests);
        Assert.Equal(10_000_000L, entry.Data["availableCredits"]);
    }

    [Fact]
    public async Task Unhealthy_when_the_token_is_refused_and_the_token_is_not_in_the_report()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        await using ServiceProvider provider = Services(emulator.BaseAddress, "wrong-token-value");

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("refused the API token", entry.Description);
        Assert.Equal(1, emulator.Counters.Unauthorized);
        Assert.DoesNotContain("wrong-token-value", entry.Description + entry.Exception);
    }

    [Fact]
    public async Task Unhealthy_when_the_API_is_unreachable()
    {
        // A port that was just free on loopback: connections are refused.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using ServiceProvider provider = Services(new Uri($"http://127.0.0.1:{port}/"), "any-token");

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.IsType<ScrapeDoTransportException>(entry.Exception);
    }

    [Fact]
    public async Task Degraded_when_credits_are_under_the_floor()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount("t", Credits: 500)] });
        await using ServiceProvider provider = Services(emulator.BaseAddress, "t", o => o.MinimumCredits = 1000);

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("500 left", entry.Description);
    }

    [Fact]
    public async Task Degraded_only_once_no_slot_has_been_free_for_the_tolerance()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("t", ConcurrencyOverride: 1)],
            TaskLatencyMin = TimeSpan.FromSeconds(60),
            TaskLatencyMax = TimeSpan.FromSeconds(60),
        });
        // The check's clock is the client's: a fake one moves "5 minutes full" forward without waiting.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using ServiceProvider provider = Services(emulator.BaseAddress, "t", clock: clock);
        var client = provider.GetRequiredService<ScrapeDoClient>();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);

        // One long task takes the only slot; the next check is past ReuseResultFor, so it asks again.
        await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://site.example/slow"] }, TestTimeout.Token());
        Assert.Equal(0, (await client.GetAccountAsync(TestTimeout.Token())).FreeConcurrency);
        clock.Advance(new ScrapeDoHealthCheckOptions().ReuseResultFor);

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        clock.Advance(TimeSpan.FromMinutes(1));
        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("No async slot has been free for 300 s", entry.Description);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    public async Task Failing_probes_do_not_spend_the_retries_of_the_apps_own_calls(int probes)
    {
        // Found by a review (session 21): each probe retried through the client's budget, so after 20 probes through a
        // /me outage the application's own call got no retry for one transient 503.
        int jobCalls = 0;
        var server = new AnsweringHandler(request => request.RequestUri!.AbsolutePath.EndsWith("/me", StringComparison.Ordinal)
            ? (HttpStatusCode.ServiceUnavailable, """{"Error":"down","Code":503}""")
            : Interlocked.Increment(ref jobCalls) == 1 ? (HttpStatusCode.ServiceUnavailable, """{"Error":"blip","Code":503}""") : (HttpStatusCode.OK, """{"JobID":"j1","Status":"pending"}"""));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using ServiceProvider provider = FakeServerServices(server, clock, retry: new ScrapeDoRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });

        for (int i = 0; i < probes; i++)
        {
            Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(provider)).Status);
            clock.Advance(TimeSpan.FromSeconds(10)); // a readiness probe every 10 s
        }

        JobDetails job = await provider.GetRequiredService<ScrapeDoClient>().GetJobAsync("j1", TestTimeout.Token());

        Assert.Equal("j1", job.JobId);
        Assert.Equal(probes, server.Calls("/api/v1/me"));
    }

    [Fact]
    public async Task Checks_close_together_share_one_api_call_and_a_failure_is_reused_too()
    {
        // Found by a review (session 21): 32 requests to an open /healthz made 32 token-bearing calls, each counted
        // against the account's rate limit.
        bool down = false;
        var server = UpUnless(() => Volatile.Read(ref down));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using ServiceProvider provider = FakeServerServices(server, clock);
        var health = provider.GetRequiredService<HealthCheckService>();

        HealthReport[] reports = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => health.CheckHealthAsync(TestTimeout.Token())));
        Assert.All(reports, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.Equal(1, server.Calls("/api/v1/me"));

        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        Assert.Equal(1, server.Calls("/api/v1/me"));

        Volatile.Write(ref down, true);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(provider)).Status);
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(provider)).Status);
        Assert.Equal(2, server.Calls("/api/v1/me"));
    }

    [Fact]
    public async Task Degraded_not_unhealthy_when_the_api_answers_429()
    {
        // A review's suspicion (session 21): a rate-limited account read as Unhealthy, which a liveness probe restarts.
        var server = new AnsweringHandler(_ => (HttpStatusCode.TooManyRequests, """{"Error":"slow down","Code":429}"""));
        await using ServiceProvider provider = FakeServerServices(server, new FakeTimeProvider(DateTimeOffset.UtcNow), retry: new ScrapeDoRetryOptions { MaxAttempts = 1 });

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("HTTP 429", entry.Description);
        Assert.DoesNotContain("health-test-token", entry.Description + entry.Exception);
    }

    [Fact]
    public async Task A_reuse_window_of_zero_asks_every_time_and_a_negative_one_is_refused()
    {
        var server = new AnsweringHandler(_ => (HttpStatusCode.OK, Account));
        await using ServiceProvider provider = FakeServerServices(server, new FakeTimeProvider(DateTimeOffset.UtcNow), o => o.ReuseResultFor = TimeSpan.Zero);

        await CheckAsync(provider);
        await CheckAsync(provider);

        Assert.Equal(2, server.Calls("/api/v1/me"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddHealthChecks().AddScrapeDo(configure: o => o.ReuseResultFor = TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task Each_provider_built_from_one_collection_checks_through_its_own_client()
    {
        // Found by a review of this session's change: the shared call lived in the registration's closure, so a second
        // provider built from the same collection checked through the first one's (disposed) client.
        var server = new AnsweringHandler(_ => (HttpStatusCode.OK, Account));
        var services = new ServiceCollection();
        services.AddScrapeDo(o =>
        {
            o.Token = "health-test-token-0123456789";
            o.BaseAddress = new Uri("https://api.example/");
        }).ConfigurePrimaryHttpMessageHandler(() => server);
        services.AddHealthChecks().AddScrapeDo(configure: o => o.ReuseResultFor = TimeSpan.Zero);

        await using (ServiceProvider first = services.BuildServiceProvider())
        {
            Assert.Equal(HealthStatus.Healthy, (await CheckAsync(first)).Status);
        }

        await using ServiceProvider second = services.BuildServiceProvider();
        HealthReportEntry entry = await CheckAsync(second);

        Assert.True(entry.Status == HealthStatus.Healthy, $"{entry.Status}: {entry.Description} {entry.Exception?.Message}");
    }

    [Fact]
    public async Task A_wall_clock_set_back_does_not_keep_an_old_answer()
    {
        // Found by a review of this session's change: the reuse window was measured on the wall clock, so a clock set
        // back an hour served the last answer for the next hour (an API gone down read Healthy).
        bool down = false;
        var server = UpUnless(() => Volatile.Read(ref down));
        var clock = new SettableWallClock(DateTimeOffset.UtcNow);
        await using ServiceProvider provider = FakeServerServices(server, clock);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);

        Volatile.Write(ref down, true);
        clock.WallOffset = TimeSpan.FromHours(-1);
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(provider)).Status);
        Assert.Equal(2, server.Calls("/api/v1/me"));
    }

    [Fact]
    public async Task A_call_that_never_answers_is_given_up_with_the_check_and_not_shared_by_later_checks()
    {
        // Found by a review of this session's change: with AttemptTimeout infinite (a documented setting) a hung call
        // was shared by every later check, each timing out, with no new call though the API answered again.
        int calls = 0;
        var server = new HangingFirstHandler(() => Interlocked.Increment(ref calls));
        var services = new ServiceCollection();
        services.AddScrapeDo(o =>
        {
            o.Token = "health-test-token-0123456789";
            o.BaseAddress = new Uri("https://api.example/");
            o.AttemptTimeout = Timeout.InfiniteTimeSpan;
        }).ConfigurePrimaryHttpMessageHandler(() => server);
        services.AddHealthChecks().AddScrapeDo(configure: o => o.ReuseResultFor = TimeSpan.Zero, timeout: TimeSpan.FromMilliseconds(500));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(provider)).Status);
        await Task.Delay(200); // the probe gives up with the check

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    /// <summary>A server whose first answer never comes (a half-open connection: only cancellation ends the wait).</summary>
    private sealed class HangingFirstHandler(Func<int> count) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (count() == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(Account, System.Text.Encoding.UTF8, "application/json"),
            };
        }
    }

    /// <summary>A fake clock whose wall time can be set apart from its monotonic time (an NTP step, a VM resumed).</summary>
    private sealed class SettableWallClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        public TimeSpan WallOffset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + WallOffset;

        // The monotonic clock does not follow the wall clock's steps (the fake's own reads its wall time).
        public override long GetTimestamp() => base.GetUtcNow().UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    private const string Account = """{"ActiveJobs":0,"AvaliableCredits":1000,"FreeConcurrency":5,"TotalConcurrency":5}""";

    /// <summary>A server that answers /me with <see cref="Account"/>, or 503 while <paramref name="down"/> says so.</summary>
    private static AnsweringHandler UpUnless(Func<bool> down) => new(_ => down()
        ? (HttpStatusCode.ServiceUnavailable, """{"Error":"down","Code":503}""")
        : (HttpStatusCode.OK, Account));

    private static ServiceProvider FakeServerServices(AnsweringHandler server, TimeProvider clock, Action<ScrapeDoHealthCheckOptions>? configure = null, ScrapeDoRetryOptions? retry = null)
    {
        var services = new ServiceCollection();
        services.AddScrapeDo(o =>
        {
            o.Token = "health-test-token-0123456789";
            o.BaseAddress = new Uri("https://api.example/");
            o.AttemptTimeout = Timeout.InfiniteTimeSpan;
            o.TimeProvider = clock;
            o.Retry = retry ?? new ScrapeDoRetryOptions();
        }).ConfigurePrimaryHttpMessageHandler(() => server);
        services.AddHealthChecks().AddScrapeDo(configure: configure);
        return services.BuildServiceProvider();
    }

    /// <summary>The server: answers each request with <c>answer</c> and counts requests by path.</summary>
    private sealed class AnsweringHandler(Func<HttpRequestMessage, (HttpStatusCode Status, string Body)> answer) : HttpMessageHandler
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();

        public int Calls(string path) => _calls.TryGetValue(path, out int n) ? n : 0;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // A moment of latency, so checks started together overlap as they would against a real server.
            await Task.Delay(20, cancellationToken);
            _calls.AddOrUpdate(request.RequestUri!.AbsolutePath, 1, (_, n) => n + 1);
            (HttpStatusCode status, string body) = answer(request);
            return new HttpResponseMessage(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        }
    }
}
