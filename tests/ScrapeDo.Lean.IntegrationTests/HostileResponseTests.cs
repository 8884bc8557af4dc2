using System.IO.Compression;
using System.Net;
using System.Text;
using CsCheck;

namespace ScrapeDo.Lean.IntegrationTests;

public class HostileResponseTests
{
    private const string JobId = "j1";

    private static ScrapeDoClient Client(ScriptedServer server, long? maxBytes = null, TimeSpan? attemptTimeout = null, int attempts = 1) => new(new ScrapeDoClientOptions
    {
        Token = "hostile-test-token-123",
        BaseAddress = server.BaseAddress,
        MaxResponseBytes = maxBytes ?? 256L * 1024 * 1024,
        AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(10),
        Retry = new ScrapeDoRetryOptions { MaxAttempts = attempts, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
    });

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "not json", "<html>oops</html>" },
        { "truncated json", """{"JobID":"j1","Tasks":[{"TaskID":"a","Stat""" },
        { "wrong type for id", """{"JobID":123}""" },
        { "wrong type for list", """{"JobID":"j1","Tasks":{"TaskID":"a"}}""" },
        { "huge number", """{"JobID":"j1","AcquiredConcurrency":1e400}""" },
        { "int overflow", """{"JobID":"j1","AcquiredConcurrency":99999999999999999999}""" },
        { "missing id", """{"Status":"pending","Tasks":[]}""" },
        { "task without id", """{"JobID":"j1","Tasks":[{"Status":"pending"}]}""" },
        { "bad timestamp", """{"JobID":"j1","StartTime":"yesterday"}""" },
        { "json null", "null" },
        { "empty body", "" },
        { "deep nesting", """{"JobID":"j1","X":""" + new string('[', 5000) + new string(']', 5000) + "}" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_success_bodies_become_a_typed_api_exception(string name, string body)
    {
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body));
        using var client = Client(server);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(JobId, Support.Timeout(20)));
        Assert.True(ex.IsMalformedResponse, name);
        Assert.Equal(HttpStatusCode.OK, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_fields_and_statuses_are_tolerated()
    {
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", """{"JobID":"j1","Status":"hibernating","NewThing":{"a":[1,{"b":null}]},"Tasks":[{"TaskID":"t","Status":"teleporting","Extra":true}]}"""));
        using var client = Client(server);
        JobDetails job = await client.GetJobAsync(JobId, Support.Timeout());
        Assert.Equal("hibernating", job.Status.Value);
        Assert.False(job.Tasks[0].Status.IsTerminal);
    }

    [Fact]
    public async Task Html_error_page_keeps_its_status()
    {
        await using var server = ScriptedServer.Always(ScriptedServer.Http("503 Service Unavailable", "<html><h1>Maintenance</h1></html>", "text/html"));
        using var client = Client(server);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetAccountAsync(Support.Timeout()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("Maintenance", ex.BodyExcerpt);
    }

    [Fact]
    public async Task A_gzip_bomb_is_stopped_at_the_size_limit()
    {
        // 64 MiB of zeros compress to about 64 KiB; the client must stop at its 1 MiB limit, not inflate it all.
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] head = Encoding.UTF8.GetBytes("{\"JobID\":\"j1\",\"Pad\":\"");
            gzip.Write(head);
            byte[] zeros = new byte[1024 * 1024];
            Array.Fill(zeros, (byte)'0');
            for (int i = 0; i < 64; i++)
            {
                gzip.Write(zeros);
            }

            gzip.Write("\"}"u8);
        }

        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", compressed.ToArray(), extraHeaders: "Content-Encoding: gzip\r\n"));
        using var client = Client(server, maxBytes: 1024 * 1024);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(JobId, Support.Timeout()));
        Assert.Contains("MaxResponseBytes", ex.Message);
        Assert.True(compressed.Length < 1024 * 1024, "the bomb is small on the wire");
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_without_reading()
    {
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", "{}"u8.ToArray(), declaredLength: 5L * 1024 * 1024 * 1024));
        using var client = Client(server, maxBytes: 1024 * 1024);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(JobId, Support.Timeout()));
        Assert.Contains("exceeds the configured limit", ex.Message);
    }

    [Fact]
    public async Task An_endless_chunked_body_is_cut_at_the_limit()
    {
        await using var server = new ScriptedServer(async (_, stream, ct) =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray(), ct);
            byte[] chunk = Encoding.ASCII.GetBytes("1000\r\n" + new string(' ', 4096) + "\r\n");
            for (int i = 0; i < 100_000 && !ct.IsCancellationRequested; i++)
            {
                await stream.WriteAsync(chunk, ct);
            }
        });
        using var client = Client(server, maxBytes: 2 * 1024 * 1024);
        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync(JobId, Support.Timeout()));
        Assert.Contains("MaxResponseBytes", ex.Message);
    }

    [Fact]
    public async Task A_body_shorter_than_its_length_is_a_transport_failure_retried_for_gets()
    {
        byte[] good = ScriptedServer.Http("200 OK", """{"JobID":"j1"}""");
        await using var server = new ScriptedServer(async (n, stream, ct) =>
        {
            byte[] response = n == 1 ? ScriptedServer.Http("200 OK", """{"JobID":"j1"}"""u8.ToArray(), declaredLength: 500) : good;
            await stream.WriteAsync(response, ct);
        });
        using var client = Client(server, attempts: 3);
        JobDetails job = await client.GetJobAsync(JobId, Support.Timeout());
        Assert.Equal("j1", job.JobId);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task A_server_that_never_answers_hits_the_attempt_timeout()
    {
        await using var server = new ScriptedServer((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        using var client = Client(server, attemptTimeout: TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<ScrapeDoTimeoutException>(() => client.GetJobAsync(JobId, Support.Timeout()));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_content_of_tens_of_megabytes_is_read_with_about_one_copy()
    {
        int size = 30 * 1024 * 1024;
        byte[] body = Encoding.UTF8.GetBytes("{\"TaskID\":\"t\",\"JobID\":\"j1\",\"Status\":\"success\",\"Content\":\"" + new string('x', size) + "\"}");
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body));
        using var client = Client(server);
        TaskDetails task = await client.GetTaskAsync(JobId, "t", Support.Timeout(60));
        Assert.Equal(size, task.Content.Length);
    }

    [Fact]
    public async Task Random_bytes_from_the_server_never_escape_as_anything_but_ScrapeDoException()
    {
        var statuses = new[] { "200 OK", "400 Bad Request", "404 Not Found", "410 Gone", "500 Internal Server Error" };
        await Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, statuses.Length - 1], Gen.Bool).SampleAsync(async (bytes, s, json) =>
        {
            byte[] body = json ? [.. "{\"JobID\":"u8.ToArray(), .. bytes] : bytes;
            await using var server = ScriptedServer.Always(ScriptedServer.Http(statuses[s], body));
            using var client = Client(server);
            try
            {
                await client.GetJobAsync(JobId, Support.Timeout(10));
            }
            catch (ScrapeDoException)
            {
            }
        }, iter: 60, threads: 1);
    }
}
