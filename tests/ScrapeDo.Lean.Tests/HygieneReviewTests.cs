using System.Net;
using System.Text;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

/// <summary>Found by a review (session 20); each failed before its fix.</summary>
public sealed class HygieneReviewTests
{
    private const string TaskJson = """{"JobID":"j1","TaskID":"t1","URL":"https://a.example/","Status":"success","StatusCode":200,"Content":"hello"}""";

    /// <summary>
    /// Before the fix: ParseAsync(Stream) wraps the caller's stream in a LengthLimitedReadStream inside <c>await using</c>, and the
    /// wrapper disposes its inner stream (ReadOnlyWrapperStream.Dispose). Nothing in the docs says the receiver takes
    /// ownership of the stream it is handed: a caller that wants to re-read (archive, log, hash) the raw body finds it
    /// disposed.
    /// </summary>
    [Fact]
    public async Task Webhook_ParseAsync_leaves_the_callers_stream_usable()
    {
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
        var body = new MemoryStream(Encoding.UTF8.GetBytes(TaskJson));

        TaskDetails task = await receiver.ParseAsync(body, TestSupport.Timeout());

        Assert.Equal("t1", task.TaskId);
        Exception? afterwards = Record.Exception(() => body.Position = 0);
        Assert.True(afterwards is null, $"the caller's stream after ParseAsync: {afterwards?.GetType().Name}: {afterwards?.Message}");
    }

    /// <summary>The same through ReceiveAsync, the call an HTTP server plugs in.</summary>
    [Fact]
    public async Task Webhook_ReceiveAsync_leaves_the_callers_stream_usable()
    {
        string secret = ScrapeDoWebhookReceiver.NewSecret();
        var receiver = new ScrapeDoWebhookReceiver(secret);
        var body = new MemoryStream(Encoding.UTF8.GetBytes(TaskJson));

        WebhookReceipt receipt = await receiver.ReceiveAsync(name => name == receiver.SecretHeader ? secret : null, body, TestSupport.Timeout());

        Assert.Equal(WebhookVerdict.Accepted, receipt.Verdict);
        Assert.True(body.CanRead, "ReceiveAsync disposed the request body stream it was handed");
    }

    /// <summary>
    /// Before the fix: ScrapeDoRetryOptions.Validate refuses negative and NaN refills but not +Infinity (or any refill past
    /// long.MaxValue / 1000). RetryBudget then takes <c>(long)(refill * 1000)</c> = long.MaxValue, and the first
    /// success overflows <c>current + _refill</c> to a negative count: the budget is spent for good and no call of the
    /// client retries again.
    /// </summary>
    [Fact]
    public async Task An_infinite_budget_refill_is_refused_or_keeps_retries_working()
    {
        var retry = new ScrapeDoRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, BudgetRefillPerSuccess = double.PositiveInfinity };
        var mock = new MockHttpMessageHandler();
        int calls = 0;
        const string Account = """{"TotalConcurrency":1,"FreeConcurrency":1,"ActiveJobs":0,"AvaliableCredits":1}""";
        // Odd attempts 503, even attempts 200: each call needs one retry.
        mock.When(TestSupport.Base + "api/v1/me").Respond(_ => Interlocked.Increment(ref calls) % 2 == 1
            ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json(Account) });

        ScrapeDoClient client;
        try
        {
            client = TestSupport.Client(mock, retry: retry);
        }
        catch (ArgumentException)
        {
            return; // refused at construction: fine
        }

        using (client)
        {
            await client.GetAccountAsync(TestSupport.Timeout()); // 503, retry (one token spent), 200: the refill overflows
            Exception? second = await Record.ExceptionAsync(() => client.GetAccountAsync(TestSupport.Timeout())); // 503 then 200
            Assert.True(second is null, $"after one retried call, a 503 is no longer retried ({calls} attempts in all): {second?.Message}");
        }
    }
    /// <summary>
    /// Before the fix: ApiPipeline.CreateStatusExceptionAsync builds the excerpt as <c>Scrub(Excerpt(bytes))</c>: the body is cut to 512
    /// characters first and scrubbed after, so a token that an echoing proxy or server put across the cut is no longer
    /// whole when the scrubber looks for it, and its first characters stay in BodyExcerpt (and in anything that logs it).
    /// </summary>
    [Fact]
    public async Task A_token_echoed_across_the_excerpt_cut_leaves_no_part_of_it_in_the_exception()
    {
        var mock = new MockHttpMessageHandler();
        // A non-JSON error page (a proxy's debug page echoing request headers) with the token at character 500.
        string page = new string('.', 490) + "X-Token: " + TestSupport.Token + " end";
        mock.When(TestSupport.Base + "api/v1/jobs/j1").Respond(HttpStatusCode.BadGateway, "text/plain", page);
        using var client = TestSupport.Client(mock, retry: new ScrapeDoRetryOptions { MaxAttempts = 1 });

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));

        string prefix = TestSupport.Token[..12]; // "tok_SECRET_0"
        Assert.NotNull(ex.BodyExcerpt);
        Assert.False(ex.BodyExcerpt!.Contains(prefix, StringComparison.Ordinal) || ex.ToString().Contains(prefix, StringComparison.Ordinal),
            $"BodyExcerpt ends with: ...{ex.BodyExcerpt[^20..]}");
    }
}
