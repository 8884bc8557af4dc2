using System.Net;
using System.Text.Json;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// The emulator's faults of a late, slow or inconsistent server (issue 10), each shown to fire as configured, at the
/// HTTP level through the client (no runner). The runner's behaviour under them is in ServerFaultRunnerTests.cs.
/// </summary>
public class ServerFaultTests
{
    private static async Task<ScrapeDoEmulator> StartAsync(FaultOptions faults, int seed = 1, TimeSpan? taskLatency = null) =>
        await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = seed,
            Faults = faults,
            TaskLatencyMin = taskLatency ?? TimeSpan.Zero,
            TaskLatencyMax = taskLatency ?? TimeSpan.Zero,
        });

    private static CreateJobRequest Urls(int count, string prefix = "https://site.example/page") => new() { Targets = Support.Urls(count, prefix) };

    private static async Task<List<JobDetails>> ListAsync(ScrapeDoClient client, CancellationToken ct)
    {
        var jobs = new List<JobDetails>();
        await foreach (JobDetails job in client.ListAllJobsAsync(new ListJobsQuery { PageSize = 100 }, ct))
        {
            jobs.Add(job);
        }

        return jobs;
    }

    [Fact]
    public async Task Commit_then_error_creates_the_job_and_answers_each_configured_status()
    {
        await using var emulator = await StartAsync(new FaultOptions { CommitThenErrorShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 15; i++)
        {
            var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.CreateJobAsync(Urls(2, $"https://s{i}.example/p"), ct));
            Assert.True(ex.CreateOutcomeUnknown, $"a {(int)ex.StatusCode} after a commit must leave the create unknown");
            statuses.Add(ex.StatusCode);
        }

        // Every answer was an error, yet every create made exactly one job (none was replayed by the client).
        Assert.Equal(15, emulator.Counters.Creates);
        Assert.Equal(15, emulator.Counters.Jobs);
        Assert.Equal(15, emulator.Counters.CommitThenErrorCount);
        Assert.Equal(15, (await ListAsync(client, ct)).Count);
        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.BadGateway, HttpStatusCode.GatewayTimeout], statuses.Distinct().Order());
    }

    [Fact]
    public async Task Commit_then_error_share_is_seeded_and_off_by_default()
    {
        async Task<string> Pattern(FaultOptions faults)
        {
            await using var emulator = await StartAsync(faults, seed: 42);
            using var client = Support.Client(emulator);
            var ct = Support.Timeout();
            var pattern = new System.Text.StringBuilder();
            for (int i = 0; i < 30; i++)
            {
                try
                {
                    await client.CreateJobAsync(Urls(1, $"https://s{i}.example/p"), ct);
                    pattern.Append('.');
                }
                catch (ScrapeDoApiException)
                {
                    pattern.Append('x');
                }
            }

            Assert.Equal(30, emulator.Counters.Jobs);
            return pattern.ToString();
        }

        string first = await Pattern(new FaultOptions { CommitThenErrorShare = 0.5, CommitThenErrorStatuses = [500] });
        string second = await Pattern(new FaultOptions { CommitThenErrorShare = 0.5, CommitThenErrorStatuses = [500] });
        string off = await Pattern(new FaultOptions());
        Assert.Equal(first, second);
        Assert.Contains('x', first);
        Assert.Contains('.', first);
        Assert.DoesNotContain('x', off);
    }

    [Fact]
    public async Task Commit_then_slow_creates_the_job_at_once_and_answers_after_the_client_gave_up()
    {
        await using var emulator = await StartAsync(new FaultOptions { CommitThenSlowShare = 1, CommitThenSlowDelay = TimeSpan.FromSeconds(2) });
        using var client = Support.Client(emulator, attemptTimeout: TimeSpan.FromMilliseconds(300));
        using var lister = Support.Client(emulator);
        var ct = Support.Timeout();
        var started = DateTime.UtcNow;

        var ex = await Assert.ThrowsAsync<ScrapeDoTimeoutException>(() => client.CreateJobAsync(Urls(3), ct));
        List<JobDetails> jobs = await ListAsync(lister, ct);

        Assert.True(ex.CreateOutcomeUnknown);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.5), "the job is visible before its answer would have arrived");
        Assert.Equal(Support.Urls(3), Assert.Single(jobs).Tasks.Select(t => t.Url));
        Assert.Equal(1, emulator.Counters.CommitThenSlowCount);

        // A patient client gets the answer, late.
        using var patient = Support.Client(emulator, attemptTimeout: TimeSpan.FromSeconds(10));
        started = DateTime.UtcNow;
        await patient.CreateJobAsync(Urls(1), ct);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.9));
    }

    [Fact]
    public async Task List_lag_hides_a_new_job_from_the_listing_but_not_from_reads_by_id()
    {
        await using var emulator = await StartAsync(new FaultOptions { ListLag = TimeSpan.FromMilliseconds(600) });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(2), ct);

        Assert.Empty(await ListAsync(client, ct));
        Assert.Equal(created.JobId, (await client.GetJobAsync(created.JobId, ct)).JobId);
        await Task.Delay(700, ct);
        Assert.Equal(created.JobId, Assert.Single(await ListAsync(client, ct)).JobId);
    }

    [Fact]
    public async Task Reads_by_id_answer_404_for_a_while_after_the_create()
    {
        await using var emulator = await StartAsync(new FaultOptions { NotFoundAfterCreate = TimeSpan.FromMilliseconds(500) });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(2), ct);

        var job404 = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(created.JobId, ct));
        var task404 = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync(created.JobId, created.TaskIds[0], ct));
        Assert.True(job404.IsNotFound);
        Assert.True(task404.IsNotFound);
        Assert.Equal(2, emulator.Counters.NotFoundAfterCreateCount);

        await Task.Delay(600, ct);
        Assert.Equal(created.JobId, (await client.GetJobAsync(created.JobId, ct)).JobId);
        Assert.Equal(created.TaskIds[0], (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).TaskId);
    }

    [Fact]
    public async Task A_job_goes_410_once_older_than_configured()
    {
        await using var emulator = await StartAsync(new FaultOptions { JobGoneAfter = TimeSpan.FromMilliseconds(300) });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(2), ct);
        Assert.Equal(created.JobId, (await client.GetJobAsync(created.JobId, ct)).JobId);

        await Task.Delay(400, ct);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(created.JobId, ct));
        Assert.True(ex.IsGone);
        Assert.Equal(1, emulator.Counters.JobGoneCount);
    }

    [Fact]
    public async Task A_snapshot_can_omit_a_task_for_good_while_the_task_itself_is_readable()
    {
        await using var emulator = await StartAsync(new FaultOptions { SnapshotOmitTaskShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(5), ct);

        JobDetails job = await Support.WaitForJobAsync(client, created.JobId, ct);
        Assert.Equal(ScrapeDoStatus.Success, job.Status);
        Assert.Equal(5, job.TaskIds.Count);
        Assert.Equal(4, job.Tasks.Count);
        string missing = Assert.Single(created.TaskIds.Except(job.Tasks.Select(t => t.TaskId)));
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetTaskAsync(created.JobId, missing, ct)).Status);
        // The listing is not a get-job snapshot: it shows every task, so a reconcile can still match targets.
        Assert.Equal(5, Assert.Single(await ListAsync(client, ct)).Tasks.Count);
    }

    [Fact]
    public async Task A_snapshot_can_report_an_unknown_status_for_one_task()
    {
        await using var emulator = await StartAsync(new FaultOptions { SnapshotUnknownStatusShare = 1, SnapshotUnknownStatus = "suspended" });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(4), ct);

        JobDetails job = await Support.WaitForJobAsync(client, created.JobId, ct);
        TaskSummary odd = Assert.Single(job.Tasks, t => t.Status == new ScrapeDoStatus("suspended"));
        Assert.Equal(3, job.Tasks.Count(t => t.Status == ScrapeDoStatus.Success));
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetTaskAsync(created.JobId, odd.TaskId, ct)).Status);
    }

    [Fact]
    public async Task A_snapshot_can_write_statuses_in_upper_case()
    {
        await using var emulator = await StartAsync(new FaultOptions { SnapshotUpperCaseShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(3), ct);
        await EmulatorWebhookAndFaultTests.WaitUntil(() => emulator.Counters.CompletedTasks == 3, ct);

        JobDetails job = await client.GetJobAsync(created.JobId, ct);
        Assert.Equal("SUCCESS", job.Status.Value);
        Assert.All(job.Tasks, t => Assert.Equal("SUCCESS", t.Status.Value));
        Assert.Equal(ScrapeDoStatus.Success, (await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct)).Status);
    }

    [Fact]
    public async Task A_200_with_an_html_body_hits_only_the_configured_gets_up_to_the_limit()
    {
        await using var emulator = await StartAsync(new FaultOptions { NonJsonShare = 1, NonJsonOn = EmulatorGets.GetJob, NonJsonLimit = 2 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(1), ct);
        await client.GetAccountAsync(ct);
        await client.GetTaskAsync(created.JobId, created.TaskIds[0], ct);

        for (int i = 0; i < 2; i++)
        {
            var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(created.JobId, ct));
            Assert.True(ex.IsMalformedResponse);
            Assert.Equal(HttpStatusCode.OK, ex.StatusCode);
        }

        Assert.Equal(created.JobId, (await client.GetJobAsync(created.JobId, ct)).JobId);
        Assert.Equal(2, emulator.Counters.NonJsonCount);
    }

    [Fact]
    public async Task A_200_with_an_html_body_can_hit_any_get()
    {
        await using var emulator = await StartAsync(new FaultOptions { NonJsonShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(ct))).IsMalformedResponse);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.ListJobsAsync(null, ct))).IsMalformedResponse);
        var created = await client.CreateJobAsync(Urls(1), ct);
        Assert.True((await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync(created.JobId, created.TaskIds[0], ct))).IsMalformedResponse);
        Assert.Equal(3, emulator.Counters.NonJsonCount);
    }

    [Fact]
    public async Task A_foreign_client_creates_a_twin_with_the_same_targets_shortly_after()
    {
        await using var emulator = await StartAsync(new FaultOptions { ForeignTwinShare = 1, ForeignTwinDelay = TimeSpan.FromMilliseconds(50) });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(3), ct);
        await EmulatorWebhookAndFaultTests.WaitUntil(() => emulator.Counters.ForeignJobs == 1, ct);

        List<JobDetails> jobs = await ListAsync(client, ct);
        Assert.Equal(2, jobs.Count);
        JobDetails twin = Assert.Single(jobs, j => j.JobId != created.JobId);
        Assert.True(emulator.IsForeignJob(twin.JobId));
        Assert.False(emulator.IsForeignJob(created.JobId));
        Assert.Equal(Support.Urls(3), twin.Tasks.Select(t => t.Url));
        Assert.True(twin.StartTime > jobs.Single(j => j.JobId == created.JobId).StartTime);
        Assert.Equal(1, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task A_foreign_plugin_twin_has_the_same_plugin_and_task_count_but_other_task_urls()
    {
        await using var emulator = await StartAsync(new FaultOptions { ForeignTwinShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var request = new CreateJobRequest { Plugin = new PluginRequest(PluginKeys.GoogleSearch, [GoogleSearchPlugin.Query("coffee"), GoogleSearchPlugin.Query("tea")]) };
        var created = await client.CreateJobAsync(request, ct);
        await EmulatorWebhookAndFaultTests.WaitUntil(() => emulator.Counters.ForeignJobs == 1, ct);

        List<JobDetails> jobs = await ListAsync(client, ct);
        JobDetails ours = jobs.Single(j => j.JobId == created.JobId);
        JobDetails twin = Assert.Single(jobs, j => j.JobId != created.JobId);
        Assert.Equal(2, twin.Tasks.Count);
        Assert.Empty(ours.Tasks.Select(t => t.Url).Intersect(twin.Tasks.Select(t => t.Url)));
        Assert.All(twin.Tasks, t => Assert.Contains("foreign", t.Url));
    }

    [Fact]
    public async Task Shuffled_task_ids_are_listed_out_of_target_order_while_each_task_keeps_its_url()
    {
        await using var emulator = await StartAsync(new FaultOptions { ShuffledTaskIdsShare = 1 });
        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        string[] targets = Support.Urls(6);
        var created = await client.CreateJobAsync(new CreateJobRequest { Targets = targets }, ct);
        JobDetails job = await Support.WaitForJobAsync(client, created.JobId, ct);

        Assert.Equal(created.TaskIds, job.TaskIds);
        Assert.Equal(targets, job.Tasks.Select(t => t.Url));
        Assert.NotEqual(job.Tasks.Select(t => t.TaskId), created.TaskIds);
        string[] urlsByTaskIdOrder = new string[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            urlsByTaskIdOrder[i] = (await client.GetTaskAsync(created.JobId, created.TaskIds[i], ct)).Url!;
        }

        Assert.NotEqual(targets, urlsByTaskIdOrder);
        Assert.Equal(targets.Order(), urlsByTaskIdOrder.Order());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Null_zero_values_write_unset_numbers_and_flags_as_null_and_only_when_asked(bool nullZeroValues)
    {
        await using var emulator = await StartAsync(new FaultOptions { NullZeroValues = nullZeroValues }, taskLatency: TimeSpan.FromSeconds(30));
        using var raw = Support.Raw(emulator);
        string expected = nullZeroValues ? "Null" : "Number";
        using (var empty = JsonDocument.Parse(await raw.GetStringAsync("api/v1/jobs")))
        {
            Assert.Equal(expected, empty.RootElement.GetProperty("TotalPages").ValueKind.ToString());
            Assert.Equal(expected, empty.RootElement.GetProperty("TotalCount").ValueKind.ToString());
        }

        using var client = Support.Client(emulator);
        var ct = Support.Timeout();
        var created = await client.CreateJobAsync(Urls(1), ct);
        using (var job = JsonDocument.Parse(await raw.GetStringAsync($"api/v1/jobs/{created.JobId}")))
        {
            Assert.Equal(nullZeroValues ? "Null" : "False", job.RootElement.GetProperty("Canceled").ValueKind.ToString());
            Assert.Equal(expected, job.RootElement.GetProperty("LimitConcurrency").ValueKind.ToString());
            Assert.Equal("String", job.RootElement.GetProperty("JobID").ValueKind.ToString());
        }

        // A task still running: no status code yet, not base64.
        using (var task = JsonDocument.Parse(await raw.GetStringAsync($"api/v1/jobs/{created.JobId}/{created.TaskIds[0]}")))
        {
            Assert.Equal(expected, task.RootElement.GetProperty("StatusCode").ValueKind.ToString());
            Assert.Equal(nullZeroValues ? "Null" : "False", task.RootElement.GetProperty("Base64EncodedContent").ValueKind.ToString());
            Assert.Equal("String", task.RootElement.GetProperty("Status").ValueKind.ToString());
        }

        using var me = JsonDocument.Parse(await raw.GetStringAsync("api/v1/me"));
        Assert.Equal("Number", me.RootElement.GetProperty("ActiveJobs").ValueKind.ToString());
    }

    [Fact]
    public async Task Finding2_a_500_after_commit_is_reconciled_into_its_one_job_by_the_runner_not_replayed()
    {
        // Runner level (issue 10, finding 2): before the fix the client replayed the 500 and every replay made a job.
        await using var emulator = await StartAsync(new FaultOptions { CommitThenErrorShare = 1, CommitThenErrorStatuses = [500] });
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, new RunOptions
        {
            MaxJobsInFlight = 2,
            FirstPollDelay = TimeSpan.FromMilliseconds(20),
            MinPollInterval = TimeSpan.FromMilliseconds(20),
            MaxPollInterval = TimeSpan.FromMilliseconds(200),
        });
        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(Support.Urls(10), cancellationToken: Support.Timeout(15)))
        {
            outcomes.Add(o);
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), outcomes.Select(o => o.InputIndex).Order());
        Assert.All(outcomes, o => Assert.True(o.Status == OutcomeStatus.Success, $"{o}: {o.Reason}"));
        Assert.Equal(1, emulator.Counters.Creates);
        Assert.Equal(1, emulator.Counters.Jobs);
    }
}
