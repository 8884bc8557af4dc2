using System.Net;
using System.Text.Json;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

public class RequestShapeTests
{
    private const string JobJson = """{"JobID":"j1","TaskIDs":["t1"],"Status":"queued","Tasks":[{"TaskID":"t1","URL":"https://a.example/","Status":"queued"}]}""";

    [Fact]
    public async Task CreateJob_posts_exact_pascal_case_body_with_token_header_and_no_nulls()
    {
        var mock = new MockHttpMessageHandler();
        string? sentBody = null;
        mock.Expect(HttpMethod.Post, TestSupport.Base + "api/v1/jobs")
            .WithHeaders("X-Token", TestSupport.Token)
            .With(r => r.Content!.Headers.ContentType!.MediaType == "application/json")
            .Respond(req =>
            {
                sentBody = req.Content!.ReadAsStringAsync().Result;
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json("""{"JobID":"j1","Message":"ok","TaskIDs":["t1","t2"]}""") };
            });
        using var client = TestSupport.Client(mock);

        var response = await client.CreateJobAsync(new CreateJobRequest
        {
            Targets = ["https://httpbin.co/anything", "https://example.com"],
            Method = TargetMethod.Post,
            Body = "string",
            GeoCode = "us",
            Super = true,
            Headers = new Dictionary<string, string> { ["property1"] = "v1" },
            ForwardHeaders = true,
            SessionId = "12345",
            Device = DeviceType.Mobile,
            SetCookies = "cookie1=value1; cookie2=value2",
            Timeout = 30000,
            RetryTimeout = 5000,
            DisableRetry = true,
            TransparentResponse = true,
            DisableRedirection = true,
            Output = OutputFormat.Markdown,
            Render = new RenderOptions
            {
                BlockResources = true,
                WaitUntil = WaitUntilEvent.DomContentLoaded,
                CustomWait = 1000,
                WaitSelector = ".content-loaded",
                PlayWithBrowser = [BrowserAction.Click("#button_id"), BrowserAction.Wait(5000), BrowserAction.Fill("#q", "abc"), BrowserAction.ScrollY(300)],
                ReturnJson = true,
                ShowWebsocketRequests = true,
                ShowFrames = true,
                ParticularScreenshot = "#element-id",
            },
            WebhookUrl = "https://your-server.example/webhook",
            WebhookHeaders = new Dictionary<string, string> { ["X-Secret"] = "s" },
        }, TestSupport.Timeout());

        mock.VerifyNoOutstandingExpectation();
        Assert.Equal("j1", response.JobId);
        Assert.Equal(["t1", "t2"], response.TaskIds);
        Assert.Equal(
            """{"Targets":["https://httpbin.co/anything","https://example.com"],"Method":"POST","Body":"string","GeoCode":"us","Super":true,"Headers":{"property1":"v1"},"ForwardHeaders":true,"SessionID":"12345","Device":"mobile","SetCookies":"cookie1=value1; cookie2=value2","Timeout":30000,"RetryTimeout":5000,"DisableRetry":true,"TransparentResponse":true,"DisableRedirection":true,"Output":"markdown","Render":{"BlockResources":true,"WaitUntil":"domcontentloaded","CustomWait":1000,"WaitSelector":".content-loaded","PlayWithBrowser":[{"Action":"Click","Selector":"#button_id"},{"Action":"Wait","Timeout":5000},{"Action":"Fill","Selector":"#q","Value":"abc"},{"Action":"ScrollY","Value":300}],"ReturnJSON":true,"ShowWebsocketRequests":true,"ShowFrames":true,"ParticularScreenshot":"#element-id"},"WebhookURL":"https://your-server.example/webhook","WebhookHeaders":{"X-Secret":"s"}}""",
            sentBody);
    }

    [Fact]
    public async Task CreateJob_minimal_body_has_only_targets()
    {
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Post, TestSupport.Base + "api/v1/jobs")
            .WithContent("""{"Targets":["https://example.com/"]}""")
            .Respond("application/json", """{"JobID":"j","TaskIDs":["t"]}""");
        using var client = TestSupport.Client(mock);
        await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://example.com/"] }, TestSupport.Timeout());
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task Plugin_job_writes_key_field_and_params_array()
    {
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Post, TestSupport.Base + "api/v1/jobs")
            .WithContent("""{"GeoCode":"us","Plugin":{"Key":"amazon/pdp","Params":[{"asin":"B0C7BKZ883","geocode":"us","zipcode":"10001","include_html":true},{"q":"coffee","num":10}]}}""")
            .Respond("application/json", """{"JobID":"j","TaskIDs":["a","b"]}""");
        using var client = TestSupport.Client(mock);
        await client.CreateJobAsync(new CreateJobRequest
        {
            GeoCode = "us",
            Plugin = new PluginRequest(PluginKeys.AmazonProductDetail,
            [
                AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001", includeHtml: true),
                PluginParams.FromJson("""{ "q" : "coffee", "num": 10 }"""),
            ]),
        }, TestSupport.Timeout());
        mock.VerifyNoOutstandingExpectation();
        Assert.Equal("Key", PluginRequest.KeyFieldName);
    }

    [Theory]
    [InlineData("0b6f1c7e-3d2a-4c5b-9e8f-1a2b3c4d5e6f", "0b6f1c7e-3d2a-4c5b-9e8f-1a2b3c4d5e6f")]
    [InlineData("A.z_0~-", "A.z_0~-")]
    [InlineData("t1", "t1")]
    [InlineData("...", "...")]
    [InlineData("t/1", "t%2F1")]
    [InlineData("../t", "..%2Ft")]
    [InlineData("t?x=1#f", "t%3Fx%3D1%23f")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData(" t", "%20t")]
    [InlineData("t%20", "t%2520")]
    public async Task Ids_are_sent_as_one_path_segment_escaped_only_where_needed(string id, string segment)
    {
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs/j1/" + segment)
            .Respond("application/json", new System.Text.Json.Nodes.JsonObject { ["TaskID"] = id, ["JobID"] = "j1", ["Status"] = "success" }.ToJsonString());
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs/" + segment)
            .Respond("application/json", new System.Text.Json.Nodes.JsonObject { ["JobID"] = id, ["Status"] = "queued" }.ToJsonString());
        using var client = TestSupport.Client(mock);

        Assert.Equal(id, (await client.GetTaskAsync("j1", id, TestSupport.Timeout())).TaskId);
        Assert.Equal(id, (await client.GetJobAsync(id, TestSupport.Timeout())).JobId);
        mock.VerifyNoOutstandingExpectation();
    }

    [Theory]
    [InlineData("", "cannot be an empty string")]
    [InlineData("   ", "cannot be an empty string or composed entirely of whitespace")]
    [InlineData("\t", "cannot be an empty string or composed entirely of whitespace")]
    [InlineData(".", "a path step, not an id")]
    [InlineData("..", "a path step, not an id")]
    public void Blank_and_dot_ids_are_refused_before_sending(string id, string problem)
    {
        var mock = new MockHttpMessageHandler();
        MockedRequest any = mock.When("*").Respond(HttpStatusCode.OK);
        using var client = TestSupport.Client(mock);

        AssertRefused("taskId", () => { _ = client.GetTaskAsync("j1", id, TestSupport.Timeout()); });
        AssertRefused("jobId", () => { _ = client.GetTaskAsync(id, "t1", TestSupport.Timeout()); });
        AssertRefused("jobId", () => { _ = client.GetJobAsync(id, TestSupport.Timeout()); });
        AssertRefused("jobId", () => { _ = client.CancelJobAsync(id, TestSupport.Timeout()); });
        Assert.Equal(0, mock.GetMatchCount(any));

        void AssertRefused(string name, Action call)
        {
            ArgumentException ex = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(name, ex.ParamName);
            Assert.Contains(problem, ex.Message);
        }
    }

    [Fact]
    public void Overlong_and_null_ids_are_refused_before_sending()
    {
        var mock = new MockHttpMessageHandler();
        MockedRequest any = mock.When("*").Respond(HttpStatusCode.OK);
        using var client = TestSupport.Client(mock);
        string overlong = new('a', 257);

        Assert.Contains("257 characters", Assert.Throws<ArgumentException>(() => { _ = client.GetTaskAsync("j1", overlong, TestSupport.Timeout()); }).Message);
        Assert.Contains("257 characters", Assert.Throws<ArgumentException>(() => { _ = client.GetJobAsync(overlong, TestSupport.Timeout()); }).Message);
        Assert.Equal("taskId", Assert.Throws<ArgumentNullException>(() => { _ = client.GetTaskAsync("j1", null!, TestSupport.Timeout()); }).ParamName);
        Assert.Equal("jobId", Assert.Throws<ArgumentNullException>(() => { _ = client.GetJobAsync(null!, TestSupport.Timeout()); }).ParamName);
        Assert.Equal(0, mock.GetMatchCount(any));
    }

    [Fact]
    public async Task GetJob_GetTask_Cancel_Me_use_documented_methods_and_escaped_paths()
    {
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs/j%2F1").WithHeaders("X-Token", TestSupport.Token).Respond("application/json", JobJson);
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs/j1/t%201").WithHeaders("X-Token", TestSupport.Token)
            .Respond("application/json", """{"TaskID":"t 1","JobID":"j1","Status":"success"}""");
        mock.Expect(HttpMethod.Delete, TestSupport.Base + "api/v1/jobs/j1").WithHeaders("X-Token", TestSupport.Token)
            .Respond("application/json", """{"JobID":"j1","Status":"canceled","Canceled":true}""");
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/me").WithHeaders("X-Token", TestSupport.Token)
            .Respond("application/json", """{"ActiveJobs":1,"AvaliableCredits":9007199254740993,"FreeConcurrency":3,"TotalConcurrency":5}""");
        using var client = TestSupport.Client(mock);
        var ct = TestSupport.Timeout();

        Assert.Equal("j1", (await client.GetJobAsync("j/1", ct)).JobId);
        Assert.Equal("t 1", (await client.GetTaskAsync("j1", "t 1", ct)).TaskId);
        var canceled = await client.CancelJobAsync("j1", ct);
        Assert.True(canceled.Canceled);
        Assert.Equal(ScrapeDoStatus.Canceled, canceled.Status);
        var me = await client.GetAccountAsync(ct);
        Assert.Equal(9007199254740993L, me.AvailableCredits);
        Assert.Equal(5, me.TotalConcurrency);
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task ListJobs_sends_every_query_parameter_in_wire_format()
    {
        var mock = new MockHttpMessageHandler();
        mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs")
            .WithExactQueryString("page=2&page_size=100&status=success&start_from=2026-11-01T00:00:00Z&start_to=2026-11-02T12:30:00.5Z&sort=start_time_asc")
            .Respond("application/json", """{"Jobs":[],"TotalCount":0,"PageSize":100,"PageNumber":2,"TotalPages":0}""");
        using var client = TestSupport.Client(mock);
        var page = await client.ListJobsAsync(new ListJobsQuery
        {
            Page = 2,
            PageSize = 100,
            Status = ScrapeDoStatus.Success,
            StartFrom = new DateTimeOffset(2026, 11, 1, 1, 0, 0, TimeSpan.FromHours(1)),
            StartTo = new DateTimeOffset(2026, 11, 2, 12, 30, 0, 500, TimeSpan.Zero),
            Sort = JobSortOrder.StartTimeAscending,
        }, TestSupport.Timeout());
        Assert.Empty(page.Jobs);
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task ListAllJobs_walks_pages_until_total_pages()
    {
        var mock = new MockHttpMessageHandler();
        for (int p = 1; p <= 3; p++)
        {
            mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs").WithExactQueryString($"page={p}&page_size=2")
                .Respond("application/json", $$"""{"Jobs":[{"JobID":"a{{p}}"},{"JobID":"b{{p}}"}],"TotalCount":6,"PageSize":2,"PageNumber":{{p}},"TotalPages":3}""");
        }

        using var client = TestSupport.Client(mock);
        List<string> ids = await AllJobIdsAsync(client, new ListJobsQuery { PageSize = 2 });

        Assert.Equal(["a1", "b1", "a2", "b2", "a3", "b3"], ids);
        mock.VerifyNoOutstandingExpectation();
    }

    [Theory]
    [InlineData("")]
    [InlineData(",\"TotalPages\":null")]
    [InlineData(",\"TotalPages\":0")]
    public async Task ListAllJobs_without_a_page_count_reads_on_while_pages_come_back_full(string totalPages)
    {
        // A listing without TotalPages used to end after its first page: the reconcile and the fence read this listing,
        // and a job on a page they never read is a job taken for absent and created twice.
        var mock = new MockHttpMessageHandler();
        string[][] pages = [["a1", "b1"], ["a2", "b2"], ["a3"]];
        for (int p = 1; p <= pages.Length; p++)
        {
            string jobs = string.Join(",", pages[p - 1].Select(id => $$"""{"JobID":"{{id}}"}"""));
            mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs").WithExactQueryString($"page={p}&page_size=2")
                .Respond("application/json", $$"""{"Jobs":[{{jobs}}],"PageSize":2,"PageNumber":{{p}}{{totalPages}}}""");
        }

        using var client = TestSupport.Client(mock);
        List<string> ids = await AllJobIdsAsync(client, new ListJobsQuery { PageSize = 2 });

        Assert.Equal(["a1", "b1", "a2", "b2", "a3"], ids);
        mock.VerifyNoOutstandingExpectation();
        Assert.Equal(3, client.RequestsSent);
    }

    [Fact]
    public async Task ListAllJobs_without_a_page_count_takes_the_pages_own_length_as_full_when_the_server_caps_it()
    {
        // Asked for 100 a page, the server gives 2: without a count, the pages themselves say what a full one is.
        var mock = new MockHttpMessageHandler();
        string[][] pages = [["a1", "b1"], ["a2", "b2"], ["a3"]];
        for (int p = 1; p <= pages.Length; p++)
        {
            string jobs = string.Join(",", pages[p - 1].Select(id => $$"""{"JobID":"{{id}}"}"""));
            mock.Expect(HttpMethod.Get, TestSupport.Base + "api/v1/jobs").WithExactQueryString($"page={p}&page_size=100").Respond("application/json", $$"""{"Jobs":[{{jobs}}]}""");
        }

        using var client = TestSupport.Client(mock);

        Assert.Equal(["a1", "b1", "a2", "b2", "a3"], await AllJobIdsAsync(client, new ListJobsQuery { PageSize = 100 }));
        mock.VerifyNoOutstandingExpectation();
    }

    [Fact]
    public async Task ListAllJobs_without_a_page_count_stops_when_a_page_repeats_the_one_before()
    {
        // A server that answers any page past the end with its last one: without a count, the repeat ends the listing.
        var mock = new MockHttpMessageHandler();
        mock.When(HttpMethod.Get, TestSupport.Base + "api/v1/jobs").Respond("application/json", """{"Jobs":[{"JobID":"a"},{"JobID":"b"}]}""");
        using var client = TestSupport.Client(mock);
        List<string> ids = await AllJobIdsAsync(client);

        Assert.Equal(["a", "b"], ids);
        Assert.Equal(2, client.RequestsSent);
    }

    private static async Task<List<string>> AllJobIdsAsync(ScrapeDoClient client, ListJobsQuery? query = null)
    {
        var ids = new List<string>();
        await foreach (var job in client.ListAllJobsAsync(query, TestSupport.Timeout()))
        {
            ids.Add(job.JobId);
        }

        return ids;
    }

    [Fact]
    public async Task ListAllJobs_stops_on_an_empty_page_even_if_total_pages_lies()
    {
        var mock = new MockHttpMessageHandler();
        mock.When(HttpMethod.Get, TestSupport.Base + "api/v1/jobs").Respond("application/json", """{"Jobs":[],"TotalCount":999,"PageSize":10,"PageNumber":1,"TotalPages":100}""");
        using var client = TestSupport.Client(mock);
        int count = 0;
        await foreach (var _ in client.ListAllJobsAsync(cancellationToken: TestSupport.Timeout()))
        {
            count++;
        }

        Assert.Equal(0, count);
        Assert.Equal(1, client.RequestsSent);
    }

    [Fact]
    public void Browser_actions_serialize_with_documented_fields()
    {
        var json = JsonSerializer.Serialize(new CreateJobRequest
        {
            Targets = ["https://a.example/"],
            Render = new RenderOptions
            {
                PlayWithBrowser =
                [
                    BrowserAction.WaitForSelector(".x", 200), BrowserAction.ScrollX(-10.5, "#pane"), BrowserAction.ScrollTo("#footer"),
                    BrowserAction.Execute("window.scrollTo(0,0)"), BrowserAction.Screenshot(fullPage: true), BrowserAction.Custom("Hover", selector: "#m"),
                ],
            },
        }, ScrapeDo.Lean.Internal.Json.ScrapeDoJsonContext.Default.CreateJobRequest);
        Assert.Contains("""{"Action":"WaitSelector","Timeout":200,"WaitSelector":".x"}""", json);
        Assert.Contains("""{"Action":"ScrollX","Selector":"#pane","Value":-10.5}""", json);
        Assert.Contains("""{"Action":"ScrollTo","Selector":"#footer"}""", json);
        Assert.Contains("""{"Action":"Execute","Execute":"window.scrollTo(0,0)"}""", json);
        Assert.Contains("""{"Action":"ScreenShot","fullScreenShot":"true"}""", json);
        Assert.Contains("""{"Action":"Hover","Selector":"#m"}""", json);
    }
}
