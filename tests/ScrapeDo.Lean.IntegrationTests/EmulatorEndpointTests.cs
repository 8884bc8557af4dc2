using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

public class EmulatorEndpointTests
{
    [Fact]
    public async Task Full_lifecycle_honours_the_plan_concurrency_and_every_task_is_fetchable()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("free-token", "free")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(15),
            TaskLatencyMax = TimeSpan.FromMilliseconds(40),
        });
        using var client = Support.Client(emulator, "free-token");
        var ct = Support.Timeout();
        string[] urls = Support.Urls(12);

        CreateJobResponse created = await client.CreateJobAsync(new CreateJobRequest { Targets = urls }, ct);
        Assert.Equal(12, created.TaskIds.Count);
        JobDetails running = await client.GetJobAsync(created.JobId, ct);
        Assert.InRange(running.AcquiredConcurrency, 0, 2);

        JobDetails done = await Support.WaitForJobAsync(client, created.JobId, ct);
        Assert.Equal(ScrapeDoStatus.Success, done.Status);
        Assert.NotNull(done.EndTime);
        Assert.Equal(created.TaskIds, done.TaskIds);
        Assert.Equal(urls, done.Tasks.Select(t => t.Url));
        Assert.All(done.Tasks, t => Assert.Equal(ScrapeDoStatus.Success, t.Status));
        Assert.Equal(2, emulator.Counters.MaxConcurrentTasks);

        foreach (TaskSummary summary in done.Tasks)
        {
            TaskDetails task = await client.GetTaskAsync(created.JobId, summary.TaskId, ct);
            Assert.Equal(200, task.StatusCode);
            Assert.False(task.Base64EncodedContent);
            Assert.Contains(summary.Url!, task.GetContentText());
            Assert.Equal(2048, task.Content.Length);
            Assert.Equal(created.JobId, task.JobId);
            Assert.NotNull(task.StartTime);
            Assert.True(task.ExpiresAt > DateTimeOffset.UtcNow.AddHours(71));
            Assert.Equal(1, emulator.TaskFetchCount(created.JobId, summary.TaskId));
        }

        AccountInfo me = await client.GetAccountAsync(ct);
        Assert.Equal(2, me.TotalConcurrency);
        Assert.Equal(2, me.FreeConcurrency);
        Assert.Equal(0, me.ActiveJobs);
        Assert.Equal(10_000_000 - 12, me.AvailableCredits);
    }

    [Fact]
    public async Task Unknown_token_is_401_and_the_message_does_not_echo_it()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator, "wrong-token-value");
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(Support.Timeout()));
        Assert.True(ex.IsUnauthorized);
        Assert.Equal(401, ex.ErrorCode);
        Assert.DoesNotContain("wrong-token-value", ex.ToString());

        using var raw = Support.Raw(emulator, token: null);
        using var response = await raw.GetAsync("api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("""{"Error":"Unauthorized: missing or invalid X-Token.","Code":401}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{not json", "Invalid JSON body")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{}", "No targets")]
    [InlineData("""{"Targets":[]}""", "No targets")]
    [InlineData("""{"Targets":["ftp://x.example/"]}""", "Targets[0] is not a valid http(s) URL")]
    [InlineData("""{"Targets":["https://a.example/"],"Device":"watch"}""", "Invalid value for Device")]
    [InlineData("""{"Targets":["https://a.example/"],"method":"TRACE"}""", "Invalid value for Method")]
    [InlineData("""{"Targets":["https://a.example/"],"Output":"pdf"}""", "Invalid value for Output")]
    [InlineData("""{"Targets":["https://a.example/"],"Render":{"WaitUntil":"load"}}""", "In Render: Invalid value for WaitUntil")]
    [InlineData("""{"Targets":["https://a.example/"],"RetryTimeout":100}""", "Invalid RetryTimeout")]
    [InlineData("""{"Targets":["https://a.example/"],"GeoCode":"us","RegionalGeoCode":"europe","Super":true}""", "GeoCode and RegionalGeoCode cannot be combined")]
    [InlineData("""{"Plugin":{"Key":"amazon/pdp","Params":[{"geocode":"us","zipcode":"1"}]}}""", "missing required parameter 'asin'")]
    [InlineData("""{"Plugin":{"Key":"Not A Key","Params":[{"q":"x"}]}}""", "Plugin key is missing or invalid")]
    [InlineData("""{"Plugin":{"Key":"google/search","Params":"q=x"}}""", "Plugin.Params must be an array")]
    public async Task Invalid_create_bodies_are_400_with_the_documented_error_shape(string body, string expected)
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var raw = Support.Raw(emulator);
        using var response = await raw.PostAsync("api/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, doc.RootElement.GetProperty("Code").GetInt32());
        Assert.Contains(expected, doc.RootElement.GetProperty("Error").GetString());
        Assert.Equal(0, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Over_1000_targets_is_400_from_the_server_too()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var raw = Support.Raw(emulator);
        string body = JsonSerializer.Serialize(new CreateJobRequest { Targets = Support.Urls(1001) }, ScrapeDo.Lean.Internal.Json.ScrapeDoJsonContext.Default.CreateJobRequest);
        using var response = await raw.PostAsync("api/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Too many targets: 1001", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Keys_are_case_insensitive_and_render_true_and_numeric_session_are_accepted()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var raw = Support.Raw(emulator);
        using var response = await raw.PostAsync("api/v1/jobs", new StringContent("""{"targets":["https://a.example/"],"render":true,"SessionID":12345,"device":"mobile","Unknown":{"x":1}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, doc.RootElement.GetProperty("TaskIDs").GetArrayLength());
        Assert.Equal("Job created successfully", doc.RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Unknown_and_malformed_ids_are_404_and_400_and_other_tokens_jobs_are_invisible()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("a-token"), new EmulatorAccount("b-token")],
        });
        using var a = Support.Client(emulator, "a-token");
        using var b = Support.Client(emulator, "b-token");
        var ct = Support.Timeout();
        var created = await a.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/"] }, ct);

        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => b.GetJobAsync(created.JobId, ct))).IsNotFound);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => a.GetJobAsync(Guid.NewGuid().ToString(), ct))).IsNotFound);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => a.GetJobAsync("not-a-uuid", ct))).IsBadRequest);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => a.GetTaskAsync(created.JobId, Guid.NewGuid().ToString(), ct))).IsNotFound);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => a.CancelJobAsync(Guid.NewGuid().ToString(), ct))).IsNotFound);
        Assert.Equal(0, (await b.ListJobsAsync(cancellationToken: ct)).TotalCount);
    }

    [Fact]
    public async Task Cancel_cancels_unfinished_tasks_frees_slots_and_a_second_cancel_is_406()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("t", "hobby")],
            TaskLatencyMin = TimeSpan.FromSeconds(30),
            TaskLatencyMax = TimeSpan.FromSeconds(30),
        });
        using var client = Support.Client(emulator, "t");
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = Support.Urls(5) }, ct);
        JobDetails before = await client.GetJobAsync(created.JobId, ct);
        Assert.Equal(ScrapeDoStatus.Pending, before.Status);
        Assert.Equal(2, before.Tasks.Count(t => t.Status == ScrapeDoStatus.Pending));
        Assert.Equal(3, before.Tasks.Count(t => t.Status == ScrapeDoStatus.Queued));
        Assert.Equal(0, (await client.GetAccountAsync(ct)).FreeConcurrency);
        Assert.Equal(1, (await client.GetAccountAsync(ct)).ActiveJobs);

        CancelJobResponse canceled = await client.CancelJobAsync(created.JobId, ct);
        Assert.True(canceled.Canceled);
        Assert.Equal(ScrapeDoStatus.Canceled, canceled.Status);
        Assert.All(canceled.Tasks, t => Assert.Equal(ScrapeDoStatus.Canceled, t.Status));
        Assert.True(canceled.Status.IsTerminal);

        AccountInfo me = await client.GetAccountAsync(ct);
        Assert.Equal(2, me.FreeConcurrency);
        Assert.Equal(0, me.ActiveJobs);

        var again = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.CancelJobAsync(created.JobId, ct));
        Assert.True(again.IsNotAcceptable);
        Assert.Equal(1, again.Attempts);

        TaskDetails task = await client.GetTaskAsync(created.JobId, created.TaskIds[4], ct);
        Assert.Equal(ScrapeDoStatus.Canceled, task.Status);
        Assert.True(task.Content.IsEmpty);
    }

    [Fact]
    public async Task Task_content_expires_after_retention_on_a_fake_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TimeProvider = time });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/x"] }, ct);
        TaskDetails fresh = await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct);
        Assert.Equal(ScrapeDoStatus.Success, fresh.Status);
        Assert.Equal(time.GetUtcNow().AddHours(72), fresh.ExpiresAt);

        time.Advance(TimeSpan.FromHours(72) - TimeSpan.FromSeconds(1));
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        var gone = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync(created.JobId, created.TaskIds[0], ct));
        Assert.True(gone.IsGone);
        Assert.Equal("Task response content is no longer available.", gone.ErrorText);
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetJobAsync(created.JobId, ct)).Status);
    }

    [Fact]
    public async Task List_pages_filters_and_sorts_as_documented()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TimeProvider = time });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var ids = new List<string>();
        for (int i = 0; i < 25; i++)
        {
            ids.Add((await client.CreateJobAsync(new CreateJobRequest { Targets = [$"https://a.example/{i}"] }, ct)).JobId);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        JobListPage first = await client.ListJobsAsync(new ListJobsQuery { PageSize = 10 }, ct);
        Assert.Equal(25, first.TotalCount);
        Assert.Equal(3, first.TotalPages);
        Assert.Equal(10, first.PageSize);
        Assert.Equal(1, first.PageNumber);
        Assert.Equal(ids[24], first.Jobs[0].JobId);

        var all = new List<string>();
        await foreach (JobDetails job in client.ListAllJobsAsync(new ListJobsQuery { PageSize = 7, Sort = JobSortOrder.StartTimeAscending }, ct))
        {
            all.Add(job.JobId);
        }

        Assert.Equal(ids, all);

        JobListPage window = await client.ListJobsAsync(new ListJobsQuery
        {
            StartFrom = new DateTimeOffset(2026, 11, 1, 0, 5, 0, TimeSpan.Zero),
            StartTo = new DateTimeOffset(2026, 11, 1, 0, 9, 0, TimeSpan.Zero),
            Status = ScrapeDoStatus.Success,
            PageSize = 100,
        }, ct);
        Assert.Equal(ids[5..10].AsEnumerable().Reverse(), window.Jobs.Select(j => j.JobId));

        Assert.Equal(0, (await client.ListJobsAsync(new ListJobsQuery { Status = ScrapeDoStatus.Pending }, ct)).TotalCount);

        using var raw = Support.Raw(emulator);
        foreach (string bad in new[] { "page=0", "page_size=101", "page_size=x", "status=done", "start_from=yesterday", "sort=random" })
        {
            using var response = await raw.GetAsync("api/v1/jobs?" + bad, ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task Contents_are_deterministic_per_seed_binary_targets_come_base64_and_errors_carry_a_message()
    {
        async Task<(string Html, byte[] Binary, TaskDetails Failed)> RunAsync(int seed)
        {
            await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Seed = seed, ContentBytes = 5000 });
            using var client = Support.Client(emulator);
            var ct = Support.Timeout();
            var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/page", "https://a.example/image.png", "https://a.example/x?emulate=error"] }, ct);
            await Support.WaitForJobAsync(client, created.JobId, ct);
            var html = await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct);
            var bin = await client.GetTaskAsync(created.JobId, created.TaskIds[1], ct);
            var failed = await client.GetTaskAsync(created.JobId, created.TaskIds[2], ct);
            Assert.True(bin.Base64EncodedContent);
            Assert.Equal(5000, bin.GetContentBytes().Length);
            return (html.GetContentText(), bin.GetContentBytes(), failed);
        }

        var a = await RunAsync(7);
        var b = await RunAsync(7);
        var c = await RunAsync(8);
        Assert.Equal(a.Html, b.Html);
        Assert.Equal(a.Binary, b.Binary);
        Assert.NotEqual(a.Html, c.Html);
        Assert.NotEqual(a.Binary, c.Binary);
        Assert.StartsWith("<!doctype html>", a.Html);
        Assert.EndsWith("</html>", a.Html);
        Assert.Equal(ScrapeDoStatus.Error, a.Failed.Status);
        Assert.False(string.IsNullOrEmpty(a.Failed.ErrorMessage));
        Assert.True(a.Failed.Content.IsEmpty);
    }

    [Fact]
    public async Task Plugin_jobs_return_deterministic_json_per_params()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest
        {
            Plugin = new PluginRequest(PluginKeys.AmazonProductDetail, [AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001"), AmazonPlugin.ProductDetail("B09G9FPHY6", "us", "10001")]),
        }, ct);
        Assert.Equal(2, created.TaskIds.Count);
        await Support.WaitForJobAsync(client, created.JobId, ct);
        TaskDetails task = await client.GetTaskAsync(created.JobId, created.TaskIds[1], ct);
        using var doc = JsonDocument.Parse(task.GetContentText());
        Assert.Equal("B09G9FPHY6", doc.RootElement.GetProperty("asin").GetString());
        Assert.True(doc.RootElement.GetProperty("price").GetProperty("value").GetDouble() > 0);

        var trends = await client.CreateJobAsync(new CreateJobRequest { Plugin = new PluginRequest(PluginKeys.GoogleTrends, [GoogleTrendsPlugin.Query("coffee,tea")]) }, ct);
        await Support.WaitForJobAsync(client, trends.JobId, ct);
        using var trendsDoc = JsonDocument.Parse((await client.GetTaskAsync(trends.JobId, trends.TaskIds[0], ct)).GetContentText());
        Assert.Equal(12, trendsDoc.RootElement.GetProperty("interest_over_time").GetProperty("timeline_data").GetArrayLength());
    }

    [Fact]
    public async Task Rotating_tasks_are_observable_and_still_finish()
    {
        var time = new FakeTimeProvider();
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TimeProvider = time, TaskLatencyMin = TimeSpan.FromSeconds(3), TaskLatencyMax = TimeSpan.FromSeconds(3) });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/r?emulate=rotate"] }, ct);
        Assert.Equal(ScrapeDoStatus.Pending, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ScrapeDoStatus.Rotating, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ScrapeDoStatus.Pending, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
    }

    [Fact]
    public async Task Diagnostics_route_reports_counters()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        await client.GetAccountAsync(Support.Timeout());
        using var raw = Support.Raw(emulator, token: null);
        using var doc = JsonDocument.Parse(await raw.GetStringAsync("_emulator/stats"));
        Assert.Equal(1, doc.RootElement.GetProperty("AccountRequests").GetInt32());
        Assert.Equal(emulator.Counters.MaxConcurrentRequests, doc.RootElement.GetProperty("MaxConcurrentRequests").GetInt64());
    }
}
