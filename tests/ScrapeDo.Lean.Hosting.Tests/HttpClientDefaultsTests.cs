using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace ScrapeDo.Lean.Hosting.Tests;

/// <summary>
/// The named client of <c>AddScrapeDo</c> against the HttpClient factory's other configuration: app-wide defaults (as
/// .NET Aspire's service defaults set them), handlers added to the builder it returns, and a second <c>AddScrapeDo</c>
/// call. Found by a review (session 21); each test failed before its fix.
/// </summary>
public sealed class HttpClientDefaultsTests
{
    private const string Account = """{"ActiveJobs":0,"AvaliableCredits":1000,"FreeConcurrency":5,"TotalConcurrency":5}""";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_retrying_handler_of_the_app_wide_defaults_never_sends_a_create_twice(bool defaultsFirst)
    {
        // A 502 to a create: the outcome is unknown (the job may exist), so the client must not send it again, and
        // the standard resilience handler retries every method, POST included.
        var server = new CountingHandler(_ => (HttpStatusCode.BadGateway, """{"Error":"bad gateway","Code":502}"""));
        var services = new ServiceCollection();
        if (defaultsFirst)
        {
            services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        }

        AddScrapeDo(services).ConfigurePrimaryHttpMessageHandler(() => server);
        if (!defaultsFirst)
        {
            services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        var ex = await Assert.ThrowsAnyAsync<ScrapeDoException>(() => provider.GetRequiredService<ScrapeDoClient>()
            .CreateJobAsync(new CreateJobRequest { Targets = ["https://site.example/x"] }, TestTimeout.Token(90)));

        Assert.True(ex.CreateOutcomeUnknown);
        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task Handlers_added_to_the_returned_builder_still_run_and_a_second_call_keeps_them()
    {
        var server = new CountingHandler(_ => (HttpStatusCode.OK, Account));
        var stamps = new List<string>();
        var services = new ServiceCollection();
        AddScrapeDo(services)
            .ConfigurePrimaryHttpMessageHandler(() => server)
            .AddHttpMessageHandler(() => new StampingHandler(stamps));
        AddScrapeDo(services);
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<ScrapeDoClient>().GetAccountAsync(TestTimeout.Token());

        Assert.Equal(["GET /api/v1/me"], stamps);
        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task A_second_AddScrapeDo_call_keeps_the_primary_handler_set_on_the_first()
    {
        // Before the fix the second call set the factory's primary handler again, over the caller's: the call below went
        // to the base address (nothing listens on port 1) instead of through the caller's handler.
        var server = new CountingHandler(_ => (HttpStatusCode.OK, Account));
        var services = new ServiceCollection();
        AddScrapeDo(services, "http://127.0.0.1:1/").ConfigurePrimaryHttpMessageHandler(() => server);
        services.AddScrapeDo(options => options.Retry = new ScrapeDoRetryOptions { MaxAttempts = 1 });
        await using ServiceProvider provider = services.BuildServiceProvider();

        AccountInfo account = await provider.GetRequiredService<ScrapeDoClient>().GetAccountAsync(TestTimeout.Token());

        Assert.Equal(1000, account.AvailableCredits);
        Assert.Equal(1, server.Calls);
    }

    private static IHttpClientBuilder AddScrapeDo(ServiceCollection services, string baseAddress = "https://api.example/") => services.AddScrapeDo(options =>
    {
        options.Token = "defaults-test-token-0123456789";
        options.BaseAddress = new Uri(baseAddress);
        options.Retry = new ScrapeDoRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };
    });

    /// <summary>The server: answers every request with <c>answer</c> and counts them.</summary>
    private sealed class CountingHandler(Func<HttpRequestMessage, (HttpStatusCode Status, string Body)> answer) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            (HttpStatusCode status, string body) = answer(request);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }

    /// <summary>A caller's handler on the returned builder: notes each request it passes on.</summary>
    private sealed class StampingHandler(List<string> stamps) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (stamps)
            {
                stamps.Add($"{request.Method} {request.RequestUri!.AbsolutePath}");
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
