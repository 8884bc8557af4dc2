using System.Net;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

public class ValidationAndSecretTests
{
    public static TheoryData<string, CreateJobRequest, string> InvalidRequests => new()
    {
        { "no targets", new CreateJobRequest { Targets = [] }, "Targets is empty" },
        { "null targets", new CreateJobRequest(), "Targets is empty" },
        { "1001 targets", new CreateJobRequest { Targets = Enumerable.Range(0, 1001).Select(i => $"https://a.example/{i}").ToArray() }, "at most 1000" },
        { "relative", new CreateJobRequest { Targets = ["https://ok.example/", "/relative/path"] }, "Targets[1] '/relative/path' is not an absolute http(s) URL" },
        { "ftp", new CreateJobRequest { Targets = ["ftp://files.example/x"] }, "Targets[0] 'ftp://files.example/x' is not an absolute http(s) URL" },
        { "space", new CreateJobRequest { Targets = ["https://a.example/a b"] }, "whitespace or a control character" },
        { "empty entry", new CreateJobRequest { Targets = [""] }, "Targets[0] is empty" },
        { "geo both", new CreateJobRequest { Targets = ["https://a.example/"], GeoCode = "us", RegionalGeoCode = "europe" }, "both GeoCode and RegionalGeoCode" },
        { "screens", new CreateJobRequest { Targets = ["https://a.example/"], Render = new RenderOptions { Screenshot = true, FullScreenshot = true } }, "more than one of Screenshot" },
        { "header crlf", new CreateJobRequest { Targets = ["https://a.example/"], Headers = new Dictionary<string, string> { ["X-A"] = "v\r\nX-Injected: 1" } }, "Headers['X-A'] contains CR, LF" },
        { "webhook header lf", new CreateJobRequest { Targets = ["https://a.example/"], WebhookHeaders = new Dictionary<string, string> { ["X-Secret"] = "a\nb" } }, "WebhookHeaders['X-Secret'] contains CR, LF" },
        { "header name", new CreateJobRequest { Targets = ["https://a.example/"], Headers = new Dictionary<string, string> { ["Bad Name"] = "v" } }, "invalid header name 'Bad Name'" },
        { "webhook url", new CreateJobRequest { Targets = ["https://a.example/"], WebhookUrl = "not a url" }, "WebhookUrl 'not a url' is not an absolute http(s) URL" },
        { "negative timeout", new CreateJobRequest { Targets = ["https://a.example/"], Timeout = -1 }, "Timeout is negative" },
        { "both", new CreateJobRequest { Targets = ["https://a.example/"], Plugin = new PluginRequest("google/search", [GoogleSearchPlugin.Query("x")]) }, "both Targets and Plugin" },
        { "empty plugin", new CreateJobRequest { Plugin = new PluginRequest("google/search", []) }, "Plugin.Params is empty" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_create_requests_are_rejected_before_sending_with_a_message_naming_the_problem(string name, CreateJobRequest request, string expected)
    {
        var mock = new MockHttpMessageHandler();
        var any = mock.When("*").Respond(HttpStatusCode.OK);
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CreateJobAsync(request, TestSupport.Timeout()));
        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{ex.Message}' should contain '{expected}'");
        Assert.Equal(0, mock.GetMatchCount(any));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task Page_size_outside_1_to_100_is_rejected(int size)
    {
        var mock = new MockHttpMessageHandler();
        using var client = TestSupport.Client(mock);
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListJobsAsync(new ListJobsQuery { PageSize = size }));
        Assert.Contains("between 1 and 100", ex.Message);
    }

    [Theory]
    [InlineData("http://api.example.com/", "Plain http:// is refused")]
    [InlineData("ftp://127.0.0.1/", "not supported")]
    public void Non_loopback_plain_http_and_odd_schemes_are_refused(string address, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", BaseAddress = new Uri(address) }));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("https://q.scrape.do/?region=eu")]
    [InlineData("https://q.scrape.do/?token=secret-in-the-query")]
    [InlineData("https://q.scrape.do/#v1")]
    public void A_base_address_with_a_query_or_fragment_is_refused_without_echoing_the_query(string address)
    {
        // Found by a review (session 21): such an address passed, and every call then went to "/" (the API's paths were
        // appended to the query or fragment).
        var ex = Assert.Throws<ArgumentException>(() => new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", BaseAddress = new Uri(address) }));
        Assert.Contains("must have no query or fragment", ex.Message);
        Assert.Contains("'https://q.scrape.do/'", ex.Message);
        Assert.DoesNotContain("secret-in-the-query", ex.Message);
    }

    [Theory]
    [InlineData(9, 9)]
    [InlineData(0, 9)]
    [InlineData(1, 2)]
    public void An_http_version_httpclient_does_not_take_is_refused_when_the_client_is_made(int major, int minor)
    {
        // Found by a review (session 19): accepted here, then every request was refused by HttpClient and reported as an
        // unreadable "HTTP 200" (for a create, as a job possibly made).
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", HttpVersion = new Version(major, minor) }));
        Assert.Contains("HttpVersion must be 1.0, 1.1, 2.0 or 3.0", ex.Message);
    }

    [Fact]
    public async Task A_version_read_with_a_build_number_is_that_version()
    {
        var mock = new MockHttpMessageHandler();
        Version? sent = null;
        mock.When("*").Respond(request =>
        {
            sent = request.Version;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"ActiveJobs":0}""") };
        });
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", HttpVersion = new Version(2, 0, 0), HttpMessageHandler = mock });
        await client.GetAccountAsync(TestSupport.Timeout());
        Assert.Equal(HttpVersion.Version20, sent);
    }

    [Fact]
    public async Task A_request_the_handler_refuses_before_sending_is_not_an_unreadable_200_nor_a_create_that_may_have_been_made()
    {
        var refusing = new RefusingHandler();
        using var client = TestSupport.Client(refusing);

        var ex = await Assert.ThrowsAsync<ScrapeDoTransportException>(() => client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, TestSupport.Timeout()));

        Assert.False(ex.CreateOutcomeUnknown);
        Assert.DoesNotContain("HTTP 200", ex.Message);
        Assert.Contains("could not be sent", ex.Message);
        Assert.Equal(1, refusing.Calls);
        // Nor does the runner's persistence take it for a passing failure (it would retry it for GiveUpAfter).
        Assert.False(ScrapeDo.Lean.Internal.Runner.RetryPersistence.IsTransient(ex));
    }

    private sealed class RefusingHandler : HttpMessageHandler
    {
        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            throw new NotSupportedException("This handler takes no such request.");
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/")]
    [InlineData("http://localhost:5000/")]
    [InlineData("http://[::1]:5000/")]
    [InlineData("https://q.scrape.do/")]
    public void Loopback_http_and_https_are_accepted(string address)
    {
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", BaseAddress = new Uri(address) });
        Assert.Equal(new Uri(address), client.BaseAddress);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("  ")]
    [InlineData("abc\r\ndef")]
    public void Missing_or_malformed_tokens_are_refused_without_echoing_them(string? token)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ScrapeDoClient(new ScrapeDoClientOptions { Token = token }));
        Assert.Contains("Token", ex.Message);
        if (token is { Length: > 3 })
        {
            Assert.DoesNotContain(token, ex.Message);
        }
    }

    [Fact]
    public void Plugin_params_reject_bad_input_with_clear_messages()
    {
        Assert.Contains("must be a JSON object", Assert.Throws<ArgumentException>(() => PluginParams.FromJson("[1,2]")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<ArgumentException>(() => PluginParams.FromJson("{\"a\":")).Message);
        Assert.Contains("'nested' must be a string, number or boolean", Assert.Throws<ArgumentException>(() => PluginParams.FromJson("{\"nested\":{\"x\":1}}")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => PluginParams.FromJson("{\"a\":1,\"a\":2}")).Message);
        Assert.Contains("'asin' is null; give it a value or leave it out", Assert.Throws<ArgumentException>(() => PluginParams.FromJson("{\"asin\":null,\"geocode\":\"us\"}")).Message);
        Assert.Contains("'asin' is required", Assert.Throws<ArgumentException>(() => AmazonPlugin.ProductDetail("", "us", "10001")).Message);
        Assert.Contains("absolute http(s)", Assert.Throws<ArgumentException>(() => AmazonPlugin.Raw("amazon.com/dp/x")).Message);
        Assert.Equal("""{"q":"coffee,tea","geo":"US","date":"today 3-m"}""", GoogleTrendsPlugin.Query("coffee,tea", geo: "US", date: "today 3-m").ToString());
        Assert.Equal("""{"keyword":"mug","geocode":"us","zipcode":"10001","page":2}""", AmazonPlugin.Search("mug", "us", "10001", page: 2).ToString());
    }

    [Fact]
    public async Task Token_never_appears_in_exceptions_ToString_or_echoed_error_bodies()
    {
        var mock = new MockHttpMessageHandler();
        // A hostile or misconfigured server that echoes the request headers back in its error.
        mock.When("*").Respond(req => new HttpResponseMessage(HttpStatusCode.Unauthorized)
        {
            Content = TestSupport.Json($$"""{"Error":"bad token {{req.Headers.GetValues("X-Token").Single()}}","Code":401}"""),
        });
        var options = new ScrapeDoClientOptions { Token = TestSupport.Token, BaseAddress = new Uri(TestSupport.Base), HttpMessageHandler = mock };
        using var client = new ScrapeDoClient(options);

        var texts = new List<string> { options.ToString(), client.ToString() };
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(TestSupport.Timeout()));
        texts.Add(ex.ToString());
        texts.Add(ex.Message);
        texts.Add(ex.ErrorText ?? "");
        texts.Add(ex.BodyExcerpt ?? "");

        foreach (string text in texts)
        {
            Assert.DoesNotContain(TestSupport.Token, text);
        }

        Assert.Contains("bad token ***", ex.ErrorText);
    }

    [Theory]
    // A short (development) token is taken out where it stands alone, and leaves words that contain it intact.
    [InlineData("x", "see inner exception", "see inner exception")]
    [InlineData("x", "GET /api/v1/me?token=x&url=y failed", "GET /api/v1/me?token=***&url=y failed")]
    [InlineData("dev", "device dev 'dev' dev", "device *** '***' ***")]
    [InlineData("dev", "devdev", "devdev")]
    // A real-length token is taken out everywhere, inside a word too.
    [InlineData("0123456789abcdef0123456789abcdef", "k0123456789abcdef0123456789abcdefz and 0123456789abcdef0123456789abcdef", "k***z and ***")]
    [InlineData("", "nothing to take out", "nothing to take out")]
    public void Token_scrubbing_takes_out_the_token_without_garbling_the_text(string token, string text, string expected) =>
        Assert.Equal(expected, ScrapeDo.Lean.Internal.TokenScrubber.Scrub(text, token));

    [Fact]
    public async Task A_one_letter_token_is_scrubbed_from_an_echoed_error_without_garbling_the_rest()
    {
        var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(req => new HttpResponseMessage(HttpStatusCode.Unauthorized)
        {
            Content = TestSupport.Json($$"""{"Error":"bad token {{req.Headers.GetValues("X-Token").Single()}}: expired","Code":401}"""),
        });
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "x", BaseAddress = new Uri(TestSupport.Base), HttpMessageHandler = mock });

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(TestSupport.Timeout()));

        Assert.Equal("bad token ***: expired", ex.ErrorText);
    }
}
