using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Emulator;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// The per-call leases: <see cref="ScrapeDoClient.GetLeasedTaskAsync"/> against the emulator over loopback, and
/// <see cref="ScrapeDoWebhookReceiver.ParseLeasedAsync"/> on the same tasks' JSON. A leased read is the plain read
/// with its content moved into a lease, and every lease goes back to the pool once disposed. Runs alone:
/// <see cref="TaskContentLease.Outstanding"/> counts process-wide.
/// </summary>
[Collection(nameof(LeaseCounting))]
public sealed class LeasedTaskTests
{
    // Above 85,000 bytes, the size at which a fresh array would go to the large-object heap.
    private const int PageBytes = 100_000;

    private static async Task<(ScrapeDoClient Client, CreateJobResponse Job)> FinishedJobAsync(ScrapeDoEmulator emulator)
    {
        var client = Support.Client(emulator);
        CreateJobResponse job = await client.CreateJobAsync(new CreateJobRequest
        {
            Targets = ["https://lease.example/page", "https://lease.example/logo.png", "https://lease.example/broken?emulate=error"],
        }, Support.Timeout());
        bool finished = false;
        for (int i = 0; i < 1000 && !(finished = (await client.GetJobAsync(job.JobId, Support.Timeout())).Status.IsTerminal); i++)
        {
            await Task.Delay(10);
        }

        // A task that finished between the plain and the leased read would fail the comparison for the wrong reason.
        Assert.True(finished, "the emulator's job did not finish within 10 s");
        return (client, job);
    }

    private static string WithoutContent(TaskDetails task) => JsonSerializer.Serialize(task.WithoutContent(), ScrapeDoJsonContext.Default.TaskDetails);

    private static async Task<byte[]> CopiedAsync(Func<Stream, ValueTask<long>> copy)
    {
        using var sink = new MemoryStream();
        long written = await copy(sink);
        Assert.Equal(sink.Length, written);
        return sink.ToArray();
    }

    private static async Task AssertSameTaskAsync(TaskDetails plain, LeasedTask leased)
    {
        Assert.Equal(WithoutContent(plain), WithoutContent(leased.Details));
        Assert.True(leased.Details.Content.IsEmpty, "the content lives only in the lease");
        if (plain.Content.IsEmpty)
        {
            Assert.Null(leased.Content);
        }
        else
        {
            TaskContentLease lease = Assert.IsType<TaskContentLease>(leased.Content);
            Assert.True(plain.Content.Utf8.Span.SequenceEqual(lease.Span), $"content of task {plain.TaskId} differs");
        }

        Assert.Equal(await CopiedAsync(s => plain.CopyContentToAsync(s)), await CopiedAsync(s => leased.CopyContentToAsync(s)));
    }

    [Fact]
    public async Task A_leased_task_is_the_plain_task_with_its_content_in_a_lease_that_goes_back_on_dispose()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = PageBytes });
        (ScrapeDoClient client, CreateJobResponse job) = await FinishedJobAsync(emulator);
        using (client)
        {
            var withContent = 0;
            var base64 = 0;
            foreach (string taskId in job.TaskIds)
            {
                TaskDetails plain = await client.GetTaskAsync(job.JobId, taskId, Support.Timeout());
                LeasedTask leased = await client.GetLeasedTaskAsync(job.JobId, taskId, Support.Timeout());
                await AssertSameTaskAsync(plain, leased);
                withContent += leased.Content is null ? 0 : 1;
                base64 += plain.Base64EncodedContent && leased.Content is not null ? 1 : 0;
                Assert.Equal(before + (leased.Content is null ? 0 : 1), TaskContentLease.Outstanding);

                leased.Dispose();
                leased.Dispose();
                Assert.Equal(before, TaskContentLease.Outstanding);
                if (leased.Content is { } lease)
                {
                    Assert.True(lease.IsDisposed);
                    await Assert.ThrowsAsync<ObjectDisposedException>(async () => await leased.CopyContentToAsync(Stream.Null));
                }
            }

            Assert.True(withContent >= 2, $"only {withContent} of the tasks had content");
            Assert.Equal(1, base64); // The .png target.
        }
    }

    [Fact]
    public async Task A_leased_read_is_refused_as_the_plain_read_is()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (ScrapeDoClient client, CreateJobResponse job) = await FinishedJobAsync(emulator);
        using (client)
        {
            string unknown = Guid.NewGuid().ToString();
            var plain = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync(job.JobId, unknown, Support.Timeout()));
            var leased = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetLeasedTaskAsync(job.JobId, unknown, Support.Timeout()));
            Assert.Equal(plain.StatusCode, leased.StatusCode);
            Assert.Equal(404, (int)leased.StatusCode);

            // A bad id is refused before anything is sent, synchronously, as GetTaskAsync refuses it.
            long sent = emulator.Counters.TotalRequests;
            Assert.Throws<ArgumentException>(() => { _ = client.GetLeasedTaskAsync(job.JobId, "", Support.Timeout()); });
            Assert.Throws<ArgumentException>(() => { _ = client.GetTaskAsync(job.JobId, "", Support.Timeout()); });
            Assert.Equal(sent, emulator.Counters.TotalRequests);
        }
    }

    /// <summary>
    /// Bodies the emulator never sends, from a scripted server: the hand-written reader behind the lease must judge them
    /// as the source-generated one behind <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>
    /// does (a later duplicate wins; anything after the object is malformed, after the content was already read).
    /// </summary>
    [Theory]
    [InlineData("{\"TaskID\":\"T\",\"JobID\":\"J\",\"Status\":\"success\",\"Content\":\"first\",\"Content\":\"<p>second \\u003c</p>\"}", "<p>second <</p>")]
    [InlineData("{\"TaskID\":\"T\",\"JobID\":\"J\",\"Status\":\"success\",\"Content\":\"page\"} trailing", null)]
    [InlineData("{\"TaskID\":\"T\",\"JobID\":\"J\",\"Status\":\"success\",\"Content\":\"page\",\"StatusCode\":\"oops\"}", null)]
    [InlineData("{\"JobID\":\"J\",\"Status\":\"success\",\"Content\":\"page\"}", null)]
    public async Task An_odd_body_is_read_or_refused_by_the_leased_read_as_by_the_plain_one(string body, string? content)
    {
        string jobId = Guid.NewGuid().ToString(), taskId = Guid.NewGuid().ToString();
        body = body.Replace("\"T\"", $"\"{taskId}\"", StringComparison.Ordinal).Replace("\"J\"", $"\"{jobId}\"", StringComparison.Ordinal);
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body));
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "scripted-token", BaseAddress = server.BaseAddress });

        if (content is null)
        {
            var plain = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetTaskAsync(jobId, taskId, Support.Timeout()));
            var leased = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetLeasedTaskAsync(jobId, taskId, Support.Timeout()));
            Assert.True(plain.IsMalformedResponse && leased.IsMalformedResponse, $"{plain.Message} / {leased.Message}");
            return;
        }

        TaskDetails read = await client.GetTaskAsync(jobId, taskId, Support.Timeout());
        using LeasedTask leasedRead = await client.GetLeasedTaskAsync(jobId, taskId, Support.Timeout());
        Assert.Equal(content, read.Content.ToString());
        await AssertSameTaskAsync(read, leasedRead);
    }

    [Fact]
    public async Task A_webhook_body_parsed_leased_is_the_plain_parse_with_its_content_in_a_lease()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = PageBytes });
        (ScrapeDoClient client, CreateJobResponse job) = await FinishedJobAsync(emulator);
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
        using (client)
        {
            foreach (string taskId in job.TaskIds)
            {
                byte[] body = JsonSerializer.SerializeToUtf8Bytes(await client.GetTaskAsync(job.JobId, taskId, Support.Timeout()), ScrapeDoJsonContext.Default.TaskDetails);
                TaskDetails plain = await receiver.ParseAsync(new ChunkedStream(body), Support.Timeout());
                using LeasedTask leased = await receiver.ParseLeasedAsync(new ChunkedStream(body), Support.Timeout());
                await AssertSameTaskAsync(plain, leased);
            }
        }

        Assert.Equal(before, TaskContentLease.Outstanding);
    }

    [Theory]
    [InlineData("null", "JSON null")]
    [InlineData("[1]", "not a task")]
    [InlineData("{\"TaskID\":", "not a task")]
    public async Task A_bad_webhook_body_is_refused_by_the_leased_parse_as_by_the_plain_one(string body, string expected)
    {
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
        var plain = await Assert.ThrowsAsync<InvalidDataException>(async () => await receiver.ParseAsync(new MemoryStream(Encoding.UTF8.GetBytes(body))));
        var leased = await Assert.ThrowsAsync<InvalidDataException>(async () => await receiver.ParseLeasedAsync(new MemoryStream(Encoding.UTF8.GetBytes(body))));
        Assert.Contains(expected, leased.Message, StringComparison.Ordinal);
        Assert.Equal(plain.Message.Split(':')[0], leased.Message.Split(':')[0]);
    }

    [Fact]
    public async Task A_webhook_body_over_the_limit_is_refused_by_the_leased_parse()
    {
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret(), maxBodyBytes: 1024);
        byte[] body = Encoding.UTF8.GetBytes($"{{\"TaskID\":\"t\",\"JobID\":\"j\",\"Content\":\"{new string('a', 5000)}\"}}");
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await receiver.ParseLeasedAsync(new ChunkedStream(body)));
        Assert.Equal("The webhook body is larger than 1024 bytes.", ex.Message);
    }

    /// <summary>A body that arrives in reads of at most 4 KB, as a request body does.</summary>
    private sealed class ChunkedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 4096));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 4096)]);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, 4096), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 4096)], cancellationToken);
    }
}
