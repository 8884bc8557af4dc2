using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

public class ErrorAndRetryTests
{
    private const string JobJson = """{"JobID":"j1","Status":"pending"}""";
    private static readonly string JobUrl = TestSupport.Base + "api/v1/jobs/j1";
    private static readonly string CreateUrl = TestSupport.Base + "api/v1/jobs";

    private static HttpResponseMessage Error(HttpStatusCode status, string? body = null, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage(status) { Content = TestSupport.Json(body ?? $$"""{"Error":"boom {{(int)status}}","Code":{{(int)status}}}""") };
        if (retryAfter is { } ra)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(ra);
        }

        return response;
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "Bad Request")]
    [InlineData(HttpStatusCode.Unauthorized, "Unauthorized")]
    [InlineData(HttpStatusCode.NotFound, "Not Found")]
    [InlineData(HttpStatusCode.NotAcceptable, "Not Acceptable")]
    [InlineData(HttpStatusCode.Gone, "Gone")]
    public async Task Non_retryable_statuses_become_one_typed_exception_after_one_attempt(HttpStatusCode status, string name)
    {
        var mock = new MockHttpMessageHandler();
        var request = mock.When(JobUrl).Respond(_ => Error(status));
        using var client = TestSupport.Client(mock);

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));

        Assert.Equal(status, ex.StatusCode);
        Assert.Equal((int)status, ex.ErrorCode);
        Assert.Equal($"boom {(int)status}", ex.ErrorText);
        Assert.Equal("j1", ex.JobId);
        Assert.Equal(ScrapeDoOperation.GetJob, ex.Operation);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(1, mock.GetMatchCount(request));
        Assert.Equal(status == HttpStatusCode.Gone, ex.IsGone);
        Assert.Equal(status == HttpStatusCode.NotAcceptable, ex.IsNotAcceptable);
        Assert.Equal(status == HttpStatusCode.Unauthorized, ex.IsUnauthorized);
        // The status as HTTP names it, not the enum member ("HTTP 400 Bad Request", never "HTTP 400 BadRequest").
        Assert.Contains($"HTTP {(int)status} {name}:", ex.Message);
        Assert.Contains("job j1", ex.Message);
    }

    [Fact]
    public async Task Gone_task_reports_the_documented_message()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl + "/t1").Respond(_ => Error(HttpStatusCode.Gone, """{"Error":"Task response content is no longer available.","Code":410}"""));
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync("j1", "t1", TestSupport.Timeout()));
        Assert.True(ex.IsGone);
        Assert.Equal("t1", ex.TaskId);
        Assert.Equal("Task response content is no longer available.", ex.ErrorText);
    }

    [Fact]
    public async Task The_servers_error_text_loses_its_control_characters_so_a_message_stays_one_line()
    {
        // Found by a review (session 19): the CLI printed this text raw, so a server could forge a second error line and
        // send escape sequences to the user's terminal.
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.BadRequest, """{"Error":"bad\u001b[31mred\r\nscrapedo: error: forged\u202Edesrever","Code":400}"""));
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));
        Assert.Equal("bad [31mred  scrapedo: error: forged desrever", ex.ErrorText);
        Assert.DoesNotContain(ex.Message, char.IsControl);
    }

    [Fact]
    public async Task The_error_text_filter_takes_each_range_end_to_end_and_nothing_beside_it()
    {
        // Each filtered range's first and last character, then the neighbours outside the ranges that must stay.
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.BadRequest,
            """{"Error":"a\u0000\u001f\u007f\u0085\u009f\u2028\u2029\u202a\u202e\u2066\u2069b \u00a0\u2027\u202f\u2065\u206a\u0020~","Code":400}"""));
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));
        Assert.Equal("a" + new string(' ', 11) + "b \u00a0\u2027\u202f\u2065\u206a ~", ex.ErrorText);
    }

    [Fact]
    public async Task An_injected_clients_own_timeout_is_not_reported_as_the_attempt_timeout()
    {
        // Found by a review (session 20): with no attempt timeout the message read "within the attempt timeout of
        // -0.001 s", naming a limit that never ran out.
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json(JobJson) };
        });
        using var http = new HttpClient(mock) { Timeout = TimeSpan.FromMilliseconds(200) };
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions
        {
            Token = TestSupport.Token,
            BaseAddress = new Uri(TestSupport.Base),
            HttpClient = http,
            AttemptTimeout = Timeout.InfiniteTimeSpan,
            Retry = new ScrapeDoRetryOptions { MaxAttempts = 1 },
        });

        var ex = await Assert.ThrowsAsync<ScrapeDoTimeoutException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));

        Assert.Contains("timed out in the HTTP stack", ex.Message);
        Assert.DoesNotContain("attempt timeout", ex.Message);
    }

    [Fact]
    public async Task Non_json_error_page_keeps_status_and_excerpt()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(HttpStatusCode.NotFound, "text/html", "<html><body>nginx 404</body></html>");
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));
        Assert.True(ex.IsNotFound);
        Assert.Null(ex.ErrorCode);
        Assert.Contains("nginx 404", ex.BodyExcerpt);
        Assert.Contains("not the documented", ex.Message);
    }

    [Fact]
    public async Task Malformed_success_body_is_an_api_exception_not_a_raw_JsonException()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond("application/json", """{"JobID":"j1","Tasks":[{"TaskID":""" );
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));
        Assert.True(ex.IsMalformedResponse);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(ex.InnerException);
    }

    [Fact]
    public async Task Malformed_member_is_named_in_the_exception_message()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(TestSupport.Base + "api/v1/me").Respond("application/json", """{"ActiveJobs":1,"AvaliableCredits":"lots"}""");
        using var client = TestSupport.Client(mock);

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(TestSupport.Timeout()));

        Assert.True(ex.IsMalformedResponse);
        Assert.Contains("$.AvaliableCredits", ex.Message);
    }

    [Fact]
    public async Task Get_retries_503_then_429_honouring_Retry_After_then_succeeds()
    {
        var time = new FakeTimeProvider();
        var mock = new MockHttpMessageHandler();
        mock.Expect(JobUrl).Respond(_ => Error(HttpStatusCode.ServiceUnavailable));
        mock.Expect(JobUrl).Respond(_ => Error(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(5)));
        mock.Expect(JobUrl).Respond("application/json", JobJson);
        using var client = TestSupport.Client(mock, time, random: () => 0);

        Task<JobDetails> call = client.GetJobAsync("j1", TestSupport.Timeout());
        // Zero jitter: the 503 retry fires at once; the 429 waits for its Retry-After of 5 s.
        await WaitForRetries(client, 2);
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Delay(50);
        Assert.Equal(2, client.RequestsSent);
        time.Advance(TimeSpan.FromSeconds(0.1));
        var job = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("j1", job.JobId);
        Assert.Equal(3, client.RequestsSent);
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task Backoff_is_exponential_full_jitter_capped_by_MaxDelay()
    {
        var time = new FakeTimeProvider();
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.BadGateway));
        var retry = new ScrapeDoRetryOptions { MaxAttempts = 5, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(3) };
        using var client = TestSupport.Client(mock, time, random: () => 1.0, retry: retry);

        Task<JobDetails> call = client.GetJobAsync("j1", TestSupport.Timeout());
        // With jitter pinned at its top, waits are 1 s, 2 s, then capped at 3 s, 3 s.
        foreach (var (wait, expectedAfter) in new[] { (1.0, 2), (2.0, 3), (3.0, 4), (3.0, 5) })
        {
            await WaitForRetries(client, expectedAfter - 1);
            time.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1));
            await Task.Delay(30);
            Assert.Equal(expectedAfter - 1, client.RequestsSent);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await WaitForRequests(client, expectedAfter);
        }

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(5, ex.Attempts);
        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
    }

    [Fact]
    public async Task Retry_After_beyond_the_cap_fails_instead_of_sleeping()
    {
        var mock = new MockHttpMessageHandler();
        var hits = mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromHours(1)));
        using var client = TestSupport.Client(mock, retry: new ScrapeDoRetryOptions { MaxRetryAfter = TimeSpan.FromSeconds(30) });
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", TestSupport.Timeout()));
        Assert.True(ex.IsRateLimited);
        Assert.Equal(TimeSpan.FromHours(1), ex.RetryAfter);
        Assert.Equal(1, mock.GetMatchCount(hits));
    }

    [Fact]
    public async Task Transport_errors_on_get_are_retried()
    {
        var time = new FakeTimeProvider();
        var mock = new MockHttpMessageHandler();
        mock.Expect(JobUrl).Throw(new HttpRequestException("reset", new IOException("connection reset"), null));
        mock.Expect(JobUrl).Respond("application/json", JobJson);
        using var client = TestSupport.Client(mock, time, random: () => 0);
        var job = await TestSupport.DriveAsync(time, client.GetJobAsync("j1", TestSupport.Timeout()), TimeSpan.FromMilliseconds(100));
        Assert.Equal("j1", job.JobId);
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task Retry_budget_stops_retry_storms()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.ServiceUnavailable));
        var retry = new ScrapeDoRetryOptions { MaxAttempts = 10, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, BudgetTokens = 10 };
        using var client = TestSupport.Client(mock, retry: retry);
        var ct = TestSupport.Timeout();
        for (int i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", ct));
        }

        // A 10-token budget allows 5 retries in all (it stops at half), so 5 calls cost 5 + 5 requests, not 50.
        Assert.Equal(10, client.RequestsSent);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task Create_is_retried_when_the_api_answered_that_it_did_not_create(HttpStatusCode status)
    {
        var time = new FakeTimeProvider();
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Post, CreateUrl).Respond(_ => Error(status));
        mock.Expect(HttpMethod.Post, CreateUrl).WithContent("""{"Targets":["https://a.example/"]}""").Respond("application/json", """{"JobID":"j","TaskIDs":["t"]}""");
        using var client = TestSupport.Client(mock, time, random: () => 0);
        var created = await TestSupport.DriveAsync(time, client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout()), TimeSpan.FromMilliseconds(100));
        Assert.Equal("j", created.JobId);
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task Create_is_retried_after_connection_refused()
    {
        var time = new FakeTimeProvider();
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Post, CreateUrl).Throw(new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused)));
        mock.Expect(HttpMethod.Post, CreateUrl).Respond("application/json", """{"JobID":"j","TaskIDs":["t"]}""");
        using var client = TestSupport.Client(mock, time, random: () => 0);
        var created = await TestSupport.DriveAsync(time, client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout()), TimeSpan.FromMilliseconds(100));
        Assert.Equal("j", created.JobId);
    }

    public static TheoryData<string> AmbiguousCreateFailures => new() { "dropped", "500", "504", "502", "truncated200" };

    [Theory]
    [MemberData(nameof(AmbiguousCreateFailures))]
    public async Task Create_is_never_replayed_after_an_ambiguous_failure(string failure)
    {
        var mock = new MockHttpMessageHandler();
        var create = mock.When(HttpMethod.Post, CreateUrl).Respond(_ => failure switch
        {
            "dropped" => throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely."),
            "500" => Error(HttpStatusCode.InternalServerError),
            "504" => Error(HttpStatusCode.GatewayTimeout),
            "502" => Error(HttpStatusCode.BadGateway),
            _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json("""{"JobID":"j","TaskI""") },
        });
        using var client = TestSupport.Client(mock, retry: new ScrapeDoRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });

        var ex = await Assert.ThrowsAnyAsync<ScrapeDoException>(() => client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout()));

        Assert.True(ex.CreateOutcomeUnknown);
        Assert.Equal(1, mock.GetMatchCount(create));
    }

    [Fact]
    public async Task A_500_leaves_a_create_unknown_but_a_get_is_still_retried()
    {
        // A 500 can follow a committed job (issue 10, finding 2): the create is not replayed, the idempotent GET is.
        var mock = new MockHttpMessageHandler();
        var create = mock.When(HttpMethod.Post, CreateUrl).Respond(_ => Error(HttpStatusCode.InternalServerError));
        int gets = 0;
        var get = mock.When(JobUrl).Respond(_ => Interlocked.Increment(ref gets) == 1
            ? Error(HttpStatusCode.InternalServerError)
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json(JobJson) });
        using var client = TestSupport.Client(mock, retry: new ScrapeDoRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });
        var ct = TestSupport.Timeout();

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, ct));
        JobDetails job = await client.GetJobAsync("j1", ct);

        Assert.True(ex.CreateOutcomeUnknown);
        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(1, mock.GetMatchCount(create));
        Assert.Equal("j1", job.JobId);
        Assert.Equal(2, mock.GetMatchCount(get));
    }

    [Fact]
    public async Task Attempt_timeout_is_a_distinct_exception_and_create_is_not_replayed()
    {
        var time = new FakeTimeProvider();
        var hang = new HangingHandler();
        using var client = TestSupport.Client(hang, time, attemptTimeout: TimeSpan.FromSeconds(5));
        Task<CreateJobResponse> call = client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout());
        await WaitForRequests(client, 1);
        time.Advance(TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<ScrapeDoTimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(ex.CreateOutcomeUnknown);
        Assert.Equal(TimeSpan.FromSeconds(5), ex.AttemptTimeout);
        Assert.Equal(1, hang.Calls);
    }

    [Fact]
    public async Task Caller_cancellation_is_OperationCanceledException_not_timeout()
    {
        using var client = TestSupport.Client(new HangingHandler());
        using var cts = new CancellationTokenSource();
        Task<JobDetails> call = client.GetJobAsync("j1", cts.Token);
        await WaitForRequests(client, 1);
        cts.Cancel();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsNotAssignableFrom<ScrapeDoException>(ex);
        Assert.Equal(cts.Token, ex.CancellationToken);
    }

    [Fact]
    public async Task Cancellation_during_retry_delay_stops_promptly()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl).Respond(_ => Error(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(50)));
        using var client = TestSupport.Client(mock);
        using var cts = new CancellationTokenSource();
        Task<JobDetails> call = client.GetJobAsync("j1", cts.Token);
        await WaitForRequests(client, 1);
        cts.CancelAfter(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Body_larger_than_MaxResponseBytes_is_rejected()
    {
        var mock = new MockHttpMessageHandler();
        string big = "{\"TaskID\":\"t\",\"JobID\":\"j\",\"Content\":\"" + new string('x', 10_000) + "\"}";
        mock.When(JobUrl + "/t").Respond("application/json", big);
        using var client = TestSupport.Client(mock, maxResponseBytes: 4096);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync("j1", "t", TestSupport.Timeout()));
        Assert.Contains("MaxResponseBytes", ex.Message);
    }

    [Fact]
    public async Task Chunked_body_without_length_is_counted_while_streaming()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(JobUrl + "/t").Respond(_ =>
        {
            var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"TaskID\":\"t\",\"JobID\":\"j\",\"Content\":\"" + new string('x', 10_000) + "\"}")));
            content.Headers.ContentLength = null;
            content.Headers.ContentType = new("application/json");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new NoLengthContent(content) };
        });
        using var client = TestSupport.Client(mock, maxResponseBytes: 4096);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync("j1", "t", TestSupport.Timeout()));
        Assert.Contains("MaxResponseBytes", ex.Message);
    }

    internal static async Task WaitForRequests(ScrapeDoClient client, long count)
    {
        for (int i = 0; i < 2000 && client.RequestsSent < count; i++)
        {
            await Task.Delay(5);
        }

        Assert.True(client.RequestsSent >= count, $"expected {count} requests, saw {client.RequestsSent}");
    }

    internal static async Task WaitForRetries(ScrapeDoClient client, long count)
    {
        for (int i = 0; i < 2000 && client.RetriesScheduled < count; i++)
        {
            await Task.Delay(5);
        }

        Assert.True(client.RetriesScheduled >= count, $"expected {count} retries, saw {client.RetriesScheduled}");
    }

    /// <summary>Never answers until the request is canceled.</summary>
    internal sealed class HangingHandler : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    internal sealed class NoLengthContent(HttpContent inner) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => inner.CopyToAsync(stream);

        protected override Task<Stream> CreateContentReadStreamAsync() => inner.ReadAsStreamAsync();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
    [Fact]
    public async Task An_exception_of_the_callers_own_handler_is_a_transport_failure_a_read_retries_and_a_create_does_not()
    {
        // A review's suspicion (session 21), confirmed: a resilience handler's own exception (an open circuit, its
        // timeout) escaped as itself, not as a ScrapeDoException, so the runner took it for a bug and ended the run.
        int calls = 0;
        var handler = new DelegateHandler(request => Interlocked.Increment(ref calls) == 1 || request.Method == HttpMethod.Post
            ? throw new CircuitOpenForTest()
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"JobID":"j1","Status":"pending"}""", System.Text.Encoding.UTF8, "application/json") });
        using ScrapeDoClient client = TestSupport.Client(handler, retry: new ScrapeDoRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });

        JobDetails job = await client.GetJobAsync("j1", TestSupport.Timeout());
        Assert.Equal("j1", job.JobId);
        Assert.Equal(2, calls);

        var create = await Assert.ThrowsAsync<ScrapeDoTransportException>(() => client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout()));
        Assert.True(create.CreateOutcomeUnknown);
        Assert.IsType<CircuitOpenForTest>(create.InnerException);
        Assert.Equal(3, calls);
    }

    /// <summary>Stands in for a resilience library's rejection (Polly's BrokenCircuitException), which derives from
    /// neither HttpRequestException nor IOException.</summary>
    private sealed class CircuitOpenForTest() : Exception("The circuit is now open and is not allowing calls.");

    private sealed class DelegateHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer(request));
    }
}
